// The package's version, from its package.json: one place for --version and SARIF's tool version.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** package.json's "version" (this file is dist/src/version.js; package.json sits two folders up). */
export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
