/**
 * `inspect conf` answers through censorSettings, Celery's filter_hidden_settings: secret-named
 * settings masked, every URL without its password, at any depth.
 */
import { describe, expect, it } from 'vitest';
import { censorSettings } from '@nori/tasks/control';

describe('censorSettings', () => {
  it("masks secret-named settings and URLs' passwords, in mappings and lists", () => {
    expect(
      censorSettings({
        broker_url: 'amqp://guest:hunter2@rabbit:5672//',
        result_backend: 'redis://:s3cret@127.0.0.1:6379/1',
        broker_failover: ['redis://u:pw1@a:6379/0', 'redis://u:pw2@b:6379/0'],
        database_engine_options: { echo: true },
        security_key: '/etc/keys/worker.key',
        api_tokens: ['t1', 't2'],
        broker_transport_options: { sentinel_kwargs: { password: 'p4ss' }, master_name: 'mymaster' },
        task_default_queue: 'celery',
        worker_concurrency: 4,
        result_expires: null,
      }),
    ).toEqual({
      broker_url: 'amqp://guest:**@rabbit:5672//',
      result_backend: 'redis://:**@127.0.0.1:6379/1',
      broker_failover: ['redis://u:**@a:6379/0', 'redis://u:**@b:6379/0'],
      database_engine_options: { echo: true },
      security_key: '********',
      api_tokens: '********',
      broker_transport_options: { sentinel_kwargs: { password: '********' }, master_name: 'mymaster' },
      task_default_queue: 'celery',
      worker_concurrency: 4,
      result_expires: null,
    });
  });
});
