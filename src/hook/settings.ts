// The hook's settings: defaults, then the config file, then the environment
// (which is where `hook install --timeout ...` bakes its options).
import { readFileSync } from 'node:fs';
import { VnetError, ExitCode } from '../errors.js';

export interface HookSettings {
  /** After this the hook aborts, undoes what it did and exits non-zero. */
  timeoutMs: number;
  /** How long an aborted up/down may take to undo before the hook gives up on it. */
  graceMs: number;
  /** Append-only log file; undefined = no log. */
  logFile: string | undefined;
  /** Network namespace to work in; undefined = the hook's own (libvirtd's, where QEMU runs). */
  netns: string | undefined;
  /** Create a missing bridge named by the record (serialised with the lock). */
  createBridge: boolean;
  /** Name of the abstract-socket lock hooks take around their work. */
  lockName: string;
  configFile: string;
  /** Where each value came from, for `hook status`. */
  sources: Record<SettingKey, 'default' | 'config' | 'env'>;
}

export const DEFAULT_CONFIG = '/etc/vnet-virt/hook.conf';
export const DEFAULTS = {
  timeout: '10',
  grace: '5',
  log: '/var/log/libvirt/vnet-virt-hook.log',
  netns: '',
  'create-bridge': 'no',
  lock: 'vnet-virt-hook',
} as const;
export type SettingKey = keyof typeof DEFAULTS;
export const SETTING_KEYS = Object.keys(DEFAULTS) as SettingKey[];

/** The environment variable of each setting, e.g. VNET_VIRT_HOOK_CREATE_BRIDGE. */
export const envName = (key: SettingKey): string => `VNET_VIRT_HOOK_${key.toUpperCase().replace(/-/g, '_')}`;
export const CONFIG_ENV = 'VNET_VIRT_HOOK_CONFIG';

const configError = (message: string, where: string, file?: string): VnetError =>
  new VnetError(message, {
    code: 'E_HOOK_CONFIG',
    exitCode: ExitCode.invalidInput,
    file,
    where,
    hint: 'fix the hook settings (vnet-virt hook status shows them)',
  });

/** `key = value` lines; `#` starts a comment. Unknown keys are errors: a typo must not pass silently. */
export function parseConfig(text: string, file: string): Partial<Record<SettingKey, string>> {
  const out: Partial<Record<SettingKey, string>> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const m = /^([a-z-]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw configError(`expected "key = value", got "${line}"`, `line ${i + 1}`, file);
    const key = m[1] as SettingKey;
    if (!SETTING_KEYS.includes(key)) throw configError(`unknown key "${m[1]}" (known: ${SETTING_KEYS.join(', ')})`, `line ${i + 1}`, file);
    out[key] = m[2]!.replace(/^"(.*)"$/, '$1');
  });
  return out;
}

const seconds = (v: string, what: string, where: string, file?: string): number => {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0) || n > 3600)
    throw configError(`${what} "${v}" is not a number of seconds between 0 and 3600`, where, file);
  return Math.round(n * 1000);
};

const yesNo = (v: string, what: string, where: string, file?: string): boolean => {
  if (/^(yes|true|1|on)$/i.test(v)) return true;
  if (/^(no|false|0|off|)$/i.test(v)) return false;
  throw configError(`${what} "${v}" is not yes or no`, where, file);
};

export function loadSettings(env: Readonly<Record<string, string | undefined>>, readFile = (p: string) => readFileSync(p, 'utf8')): HookSettings {
  const configFile = env[CONFIG_ENV] || DEFAULT_CONFIG;
  let fromFile: Partial<Record<SettingKey, string>> = {};
  try {
    fromFile = parseConfig(readFile(configFile), configFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof VnetError) throw e;
      throw configError(`cannot read: ${(e as Error).message}`, 'config', configFile);
    }
  }
  const sources = {} as HookSettings['sources'];
  const value = (key: SettingKey): { v: string; where: string; file?: string } => {
    const e = env[envName(key)];
    if (e !== undefined) {
      sources[key] = 'env';
      return { v: e, where: envName(key) };
    }
    const f = fromFile[key];
    if (f !== undefined) {
      sources[key] = 'config';
      return { v: f, where: key, file: configFile };
    }
    sources[key] = 'default';
    return { v: DEFAULTS[key], where: key };
  };
  const t = value('timeout');
  const g = value('grace');
  const l = value('log');
  const n = value('netns');
  const c = value('create-bridge');
  const k = value('lock');
  const log = l.v.trim();
  return {
    timeoutMs: seconds(t.v, 'timeout', t.where, t.file),
    graceMs: seconds(g.v, 'grace', g.where, g.file),
    logFile: log === '' || log === 'none' ? undefined : log,
    netns: n.v.trim() || undefined,
    createBridge: yesNo(c.v.trim(), 'create-bridge', c.where, c.file),
    lockName: k.v.trim() || DEFAULTS.lock,
    configFile,
    sources,
  };
}
