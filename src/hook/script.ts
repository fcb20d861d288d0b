// The executable `hook install` writes: a few lines of sh that exit 0 at once
// when there is nothing to do, and otherwise pipe the XML to node on the hook
// entry directly (no CLI, no commander). The marker line is how install,
// uninstall and status recognise a file as ours.
import { RECORD_MARK } from './dispatch.js';
import { SCRIPT_IP_ENV } from './script-ip.js';
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

/** The most the hook reads from stdin, plus one byte, so that node sees an over-long input as too long. */
export const STDIN_LIMIT = 10 * 1024 * 1024;

/**
 * Two decisions are taken in sh, before node starts, so that a call with no
 * work costs a few milliseconds and succeeds even when node or vnet-virt is
 * gone: the operation (only "prepare begin", "release end" and, on a migration's
 * destination, "migrate begin" can have work)
 * and the record (a domain whose XML lacks the record's namespace needs
 * nothing). A call with work and a missing node or entry fails with one line.
 */
export function hookScript(spec: ScriptSpec): string {
  const lines = [
    '#!/bin/sh',
    MARKER,
    '# libvirt runs it as: <domain> <operation> <sub-operation> <extra>, with the domain XML on stdin.',
    '# libvirtd may run hooks with a short PATH; ip(8) lives in these.',
    'PATH="${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
    'export PATH',
    '# Only "prepare begin", "release end" and "migrate begin" (the host map, src/hook/migrate.ts) can have work;',
    '# the rest exit 0 without reading stdin.',
    'case "$2 $3" in',
    "'prepare begin'|'release end'|'migrate begin') ;;",
    '*) exit 0 ;;',
    'esac',
    "# A domain without vnet-virt's record needs nothing: decided without node.",
    `xml=$(head -c ${STDIN_LIMIT + 1})`,
    'case $xml in',
    `*${shQuote(RECORD_MARK)}*) ;;`,
    '*) exit 0 ;;',
    'esac',
    `node=${shQuote(spec.node)}`,
    `entry=${shQuote(spec.entry)}`,
    'missing=',
    `[ -f "$entry" ] || missing="vnet-virt's hook ($entry)"`,
    '[ -x "$node" ] || missing="node ($node)"',
    'if [ -n "$missing" ]; then',
    "  printf 'vnet-virt: %s: cannot run the hook: %s is missing; run `vnet-virt hook install` again\\n' \"$1\" \"$missing\" >&2",
    '  exit 1',
    'fi',
  ];
  if (spec.configFile) lines.push(`export VNET_VIRT_HOOK_CONFIG=${shQuote(spec.configFile)}`);
  for (const [key, value] of Object.entries(spec.settings).sort(([a], [b]) => a.localeCompare(b))) {
    if (value !== undefined) lines.push(`export ${envName(key as SettingKey)}=${shQuote(value)}`);
  }
  // A here-document, not `printf | exec node`: in a pipeline node would be the sh's child, and the sh would keep
  // ip's input open; so node takes the sh's place, and is ip's parent.
  lines.push(...SCRIPT_IP_LINES, 'exec "$node" "$entry" "$@" <<EOF', '$xml', 'EOF');
  return lines.join('\n') + '\n';
}

/**
 * For "prepare begin" and "release end": `ip -j -d -batch -` starts here, in
 * the background, while node starts (node then starts no process of its own:
 * src/hook/script-ip.ts), and node inherits fds 3 (ip's input) and 4 (ip's
 * stdout and stderr). The two pipes are made without a process: each is a
 * here-document of one empty line (a pipe in dash, busybox sh and bash 5.1+),
 * read empty and reopened read-write through /proc/self/fd, so that neither
 * side waits for the other to open it. Where a here-document is a file (older
 * bash), two FIFOs in a private folder (mktemp -d) serve, the background job
 * removing the folder. ip is looked up in PATH by the script itself (busybox
 * sh would otherwise run its own ip applet). Without ip, or pipes, node starts
 * ip itself, as before.
 */
export const SCRIPT_IP_LINES = [
  '# prepare begin and release end: ip starts now, beside node; node gives it the probe and the plan once it',
  '# holds the lock, through pipes it inherits as fds 3 (ip\'s input) and 4 (ip\'s output): src/hook/script-ip.ts.',
  'case "$2" in prepare|release)',
  '  ipbin=; IFS=:; for p in $PATH; do [ -x "$p/ip" ] && [ -f "$p/ip" ] && { ipbin=$p/ip; break; }; done; unset IFS',
  "  exec 5<<'VNET_VIRT_PIPE'",
  '',
  'VNET_VIRT_PIPE',
  "  exec 6<<'VNET_VIRT_PIPE'",
  '',
  'VNET_VIRT_PIPE',
  '  if [ -z "$ipbin" ]; then',
  '    exec 5<&- 6<&-',
  '  elif [ -p /proc/self/fd/5 ] && [ -p /proc/self/fd/6 ] && read -r _ <&5 && read -r _ <&6; then',
  '    exec 3<>/proc/self/fd/5 4<&6 8>/proc/self/fd/6 6<&-',
  '    { exec "$ipbin" -j -d -batch -; } <&5 >&8 2>&8 3>&- 4<&- 5<&- 8>&- &',
  '    exec 5<&- 8>&-',
  `    export ${SCRIPT_IP_ENV}="3:4:$!"`,
  '  elif exec 5<&- 6<&- && d=$(mktemp -d 2>/dev/null); then',
  '    if mkfifo -m 600 "$d/in" "$d/out" 2>/dev/null; then',
  '      exec 5<>"$d/in" 6<>"$d/out"',
  '      exec 3>"$d/in" 4<"$d/out" 7<"$d/in" 8>"$d/out" 5<&- 6>&-',
  '      { rm -r "$d"; exec "$ipbin" -j -d -batch -; } <&7 >&8 2>&8 3>&- 4<&- 7<&- 8>&- &',
  '      exec 7<&- 8>&-',
  `      export ${SCRIPT_IP_ENV}="3:4:$!"`,
  '    else rm -rf "$d"',
  '    fi',
  '  fi ;;',
  'esac',
];

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
    // Installs before the sh pre-check wrote `exec NODE ENTRY "$@"`.
    const x = /^exec ('(?:[^']|'\\'')*') ('(?:[^']|'\\'')*') "\$@"$/.exec(line);
    if (x) {
      node = unquote(x[1]!);
      entry = unquote(x[2]!);
    }
    const v = /^(node|entry)=('(?:[^']|'\\'')*')$/.exec(line);
    if (v?.[1] === 'node') node = unquote(v[2]!);
    if (v?.[1] === 'entry') entry = unquote(v[2]!);
  }
  return { node, entry, env };
}

/** The line an existing foreign `qemu` hook needs so that an old libvirt also runs ours. */
export const chainLine = (path: string): string => `${shQuote(path)} "$@" || exit $?`;
