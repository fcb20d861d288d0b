// lint's configuration file: .vnet-virt.json, or the "vnet-virt" key of
// package.json, found in the working folder or the nearest folder above it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { usageError } from '../errors.js';
import { ALWAYS_ON, ruleById } from './rules/index.js';
import type { Scope, Severity } from './types.js';

export const SCOPES: readonly Scope[] = ['folder', 'file', 'run'];
export const CONFIG_FILE = '.vnet-virt.json';
export const PACKAGE_KEY = 'vnet-virt';

export type RuleSetting = Severity | 'off';

export interface LintConfig {
  /** Where it was read from; undefined when there is none. */
  source: string | undefined;
  /** Per rule: 'off', or the severity its findings get. */
  rules: Record<string, RuleSetting>;
  scope: Scope | undefined;
  /** Globs of paths not linted (relative to the config's folder, like .gitignore). */
  ignore: string[];
  /** The folder `ignore` patterns are relative to. */
  base: string;
}

const SETTINGS: readonly RuleSetting[] = ['off', 'error', 'warning', 'info'];

/** Checks a parsed config; every mistake is a usage error that names the file and the key. */
export function parseConfig(raw: unknown, source: string): LintConfig {
  const bad = (where: string, message: string, hint: string): never => {
    throw usageError('E_CONFIG', message, { file: source, where, hint });
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('/', 'the configuration must be a JSON object', 'e.g. {"rules": {"vepa-needs-hairpin": "off"}, "scope": "folder"}');
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj))
    if (!['rules', 'scope', 'ignore', '$schema'].includes(key)) bad(key, `unknown key '${key}'`, 'keys: rules, scope, ignore');
  const rules: Record<string, RuleSetting> = {};
  if (obj['rules'] !== undefined) {
    if (typeof obj['rules'] !== 'object' || obj['rules'] === null || Array.isArray(obj['rules'])) bad('rules', 'must be an object of rule id to setting', 'e.g. "rules": {"mac-reserved-fe": "off"}');
    for (const [id, value] of Object.entries(obj['rules'] as Record<string, unknown>)) {
      if (!ruleById.has(id)) bad(`rules.${id}`, `unknown rule '${id}'`, 'vnet-virt lint --list-rules shows them');
      if (!SETTINGS.includes(value as RuleSetting)) bad(`rules.${id}`, `'${String(value)}' is not a setting`, `give one of ${SETTINGS.join(', ')}`);
      if (ALWAYS_ON.has(id) && value !== 'error') bad(`rules.${id}`, `${id} cannot be turned off or lowered`, 'a file lint cannot read must fail');
      rules[id] = value as RuleSetting;
    }
  }
  const scope = obj['scope'];
  if (scope !== undefined && !SCOPES.includes(scope as Scope)) bad('scope', `'${String(scope)}' is not a scope`, `give one of ${SCOPES.join(', ')}`);
  const ignore = obj['ignore'] ?? [];
  if (!Array.isArray(ignore) || ignore.some((g) => typeof g !== 'string' || g === ''))
    bad('ignore', 'must be an array of glob patterns', 'e.g. "ignore": ["templates/**", "*.orig.xml"]');
  return { source, rules, scope: scope as Scope | undefined, ignore: ignore as string[], base: dirname(resolve(source)) };
}

const none = (cwd: string): LintConfig => ({ source: undefined, rules: {}, scope: undefined, ignore: [], base: cwd });

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError('E_CONFIG', `cannot read: ${e instanceof Error ? e.message : String(e)}`, { file, hint: 'check the path and its permissions' });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw usageError('E_CONFIG', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { file, hint: 'fix the JSON' });
  }
}

/** The config named by --config, or the nearest .vnet-virt.json / package.json key from `cwd` upwards. */
export function loadConfig(cwd: string, explicit?: string): LintConfig {
  if (explicit !== undefined) return parseConfig(readJson(explicit), explicit);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, CONFIG_FILE);
    if (existsSync(file)) return parseConfig(readJson(file), file);
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const json = readJson(pkg) as Record<string, unknown> | null;
      if (json && typeof json === 'object' && PACKAGE_KEY in json) return parseConfig(json[PACKAGE_KEY], `${pkg}#${PACKAGE_KEY}`);
    }
    if (dirname(dir) === dir) return none(cwd);
  }
}

/** A .gitignore-like glob as a test on a '/'-separated relative path: without a '/', it matches a name at any depth. */
export function globMatcher(patterns: readonly string[]): (relPath: string) => boolean {
  if (patterns.length === 0) return () => false;
  const res = patterns.map((p) => {
    const anchored = p.replace(/^\.\//, '').replace(/\/$/, '');
    let re = '';
    for (let i = 0; i < anchored.length; i++) {
      const c = anchored[i]!;
      if (c === '*' && anchored[i + 1] === '*') {
        re += anchored[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += anchored[i + 2] === '/' ? 2 : 1;
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    // A pattern also ignores everything under a folder it matches.
    return new RegExp(`${anchored.includes('/') ? '^' : '(?:^|/)'}${re}(?:/.*)?$`);
  });
  return (path) => res.some((re) => re.test(path));
}
