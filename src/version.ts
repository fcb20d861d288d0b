// The package's own package.json: one place for --version, SARIF's tool version
// and the home page that findings link to.
import { readFileSync } from 'node:fs';

export interface PackageInfo {
  name: string;
  version: string;
  /** https URL of the project's home page. */
  homepage: string;
}

let pkg: PackageInfo | undefined;

/** package.json (this file is dist/src/version.js; package.json sits two folders up, also when installed). */
export function packageInfo(): PackageInfo {
  pkg ??= JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageInfo;
  return pkg;
}

export const packageVersion = (): string => packageInfo().version;
