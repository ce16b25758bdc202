/** The version of @nori/cli, read from its package.json (beside both src/ and dist/). */
import { createRequire } from 'node:module';

export const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
