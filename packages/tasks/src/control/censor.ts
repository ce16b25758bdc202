/**
 * Celery's filter_hidden_settings (celery/app/utils.py), which `inspect conf` answers through: a
 * setting whose name says API, TOKEN, KEY, SECRET, PASS, SIGNATURE or DATABASE shows as '********',
 * and every URL (Celery masks only the broker's and backends') shows without its password.
 * Mappings are censored key by key, lists item by item.
 */
import { maskUrl } from '@nori/core';

const HIDDEN = /API|TOKEN|KEY|SECRET|PASS|SIGNATURE|DATABASE/i;
const MASK = '********';

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function censorValue(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('://') ? maskUrl(value) : value;
  if (Array.isArray(value)) return value.map(censorValue);
  return isMapping(value) ? censorSettings(value) : value;
}

export function censorSettings(settings: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).map(([key, value]) => [key, HIDDEN.test(key) && !isMapping(value) ? MASK : censorValue(value)]));
}
