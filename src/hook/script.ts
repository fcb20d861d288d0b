// The executable `hook install` writes: a few lines of sh that exec node on
// entry.js directly (no CLI, no commander). The marker line is how install,
// uninstall and status recognise a file as ours.
import { envName } from './settings.js';
import type { SettingKey } from './settings.js';

export const MARKER = '# vnet-virt-hook: written by `vnet-virt hook install`; `vnet-virt hook uninstall` removes it';

export interface ScriptSpec {
  node: string;
  entry: string;
  /** Settings baked in as environment variables (the config file and the defaults fill the rest). */
  settings: Partial<Record<SettingKey, string>>;
  /** VNET_VIRT_HOOK_CONFIG, when not the default file. */
  configFile?: string | undefined;
}

/** Single-quoted for sh. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function hookScript(spec: ScriptSpec): string {
  const lines = [
    '#!/bin/sh',
    MARKER,
    '# libvirt runs it as: <domain> <operation> <sub-operation> <extra>, with the domain XML on stdin.',
    '# libvirtd may run hooks with a short PATH; ip(8) lives in these.',
    'PATH="${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
    'export PATH',
  ];
  if (spec.configFile) lines.push(`export VNET_VIRT_HOOK_CONFIG=${shQuote(spec.configFile)}`);
  for (const [key, value] of Object.entries(spec.settings).sort(([a], [b]) => a.localeCompare(b))) {
    if (value !== undefined) lines.push(`export ${envName(key as SettingKey)}=${shQuote(value)}`);
  }
  lines.push(`exec ${shQuote(spec.node)} ${shQuote(spec.entry)} "$@"`);
  return lines.join('\n') + '\n';
}

export const isOurs = (text: string): boolean => text.split('\n').includes(MARKER);

/** What an installed script of ours runs and which settings it bakes in. */
export function readScript(text: string): { node?: string; entry?: string; env: Record<string, string> } {
  const unquote = (s: string): string => s.replace(/^'(.*)'$/s, '$1').replace(/'\\''/g, "'");
  const env: Record<string, string> = {};
  let node: string | undefined;
  let entry: string | undefined;
  for (const line of text.split('\n')) {
    const e = /^export (VNET_VIRT_HOOK_[A-Z_]+)=('(?:[^']|'\\'')*')$/.exec(line);
    if (e) env[e[1]!] = unquote(e[2]!);
    const x = /^exec ('(?:[^']|'\\'')*') ('(?:[^']|'\\'')*') "\$@"$/.exec(line);
    if (x) {
      node = unquote(x[1]!);
      entry = unquote(x[2]!);
    }
  }
  return { node, entry, env };
}

/** The line an existing foreign `qemu` hook needs so that an old libvirt also runs ours. */
export const chainLine = (path: string): string => `${shQuote(path)} "$@" || exit $?`;
