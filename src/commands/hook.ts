// hook run / replay / install / uninstall / status: the use cases behind the CLI.
import { DomainDoc } from '../domain/doc.js';
import { hookMain, readStdin } from '../hook/dispatch.js';
import type { HookResult } from '../hook/dispatch.js';
import { install, statusLines, uninstall } from '../hook/install.js';
import type { SettingKey } from '../hook/settings.js';
import { streamLog } from '../hook/log.js';
import { readText } from './io.js';

const stderr = (s: string): void => {
  process.stderr.write(s);
};

/** Exactly what libvirt runs: the same function as dist/src/hook/entry.js. */
export async function runHookRun(args: string[]): Promise<void> {
  const r = await hookMain(args, { stdin: readStdin, stderr, stdout: (s) => process.stdout.write(s), env: process.env });
  process.exitCode = r.code;
}

export interface ReplayOptions {
  xml: string;
  dryRun?: boolean;
  netns?: string;
}

const WHY: Partial<Record<HookResult['outcome'], string>> = {
  'ignored-operation': 'libvirt\'s call exits 0 at once: only "prepare begin" and "release end" do anything',
  'no-record': "the XML has no vnet-virt record: the hook leaves this domain alone",
  'empty-record': 'the record lists no interface: nothing to do',
};

/** The hook's path on a saved XML; its log goes to stderr, the report (JSON) to stdout. */
export async function runHookReplay(op: string, sub: string, opts: ReplayOptions, out: (s: string) => void): Promise<void> {
  const xml = readText(opts.xml);
  const domain = DomainDoc.parse(xml, opts.xml).name ?? opts.xml;
  const r = await hookMain([domain, op, sub, '-'], { stdin: () => xml, stderr, stdout: out, env: process.env }, {
    netns: opts.netns,
    dryRun: opts.dryRun,
    log: streamLog(stderr, domain, `${op}/${sub}`),
  });
  const why = WHY[r.outcome];
  if (why) stderr(`vnet-virt: hook replay: ${domain} ${op} ${sub}: ${why}\n`);
  if (r.report !== undefined) out(JSON.stringify(r.report, null, 2) + '\n');
  process.exitCode = r.code;
}

export interface InstallCliOptions {
  hooksDir: string;
  force?: boolean;
  timeout?: string;
  grace?: string;
  log?: string;
  createBridge?: boolean;
  lock?: string;
  config?: string;
  libvirtVersion?: string;
  reload?: boolean;
}

export function runHookInstall(opts: InstallCliOptions, out: (s: string) => void): void {
  const settings: Partial<Record<SettingKey, string>> = {};
  if (opts.timeout !== undefined) settings.timeout = opts.timeout;
  if (opts.grace !== undefined) settings.grace = opts.grace;
  if (opts.log !== undefined) settings.log = opts.log;
  if (opts.createBridge) settings['create-bridge'] = 'yes';
  if (opts.lock !== undefined) settings.lock = opts.lock;
  const lines = install({
    hooksDir: opts.hooksDir,
    force: opts.force,
    libvirtVersion: opts.libvirtVersion,
    settings,
    configFile: opts.config,
    reload: opts.reload,
    allowTemporary: process.env.VNET_VIRT_ALLOW_TEMPORARY_HOOK === '1',
  });
  out(lines.join('\n') + '\n');
}

export function runHookUninstall(hooksDir: string, out: (s: string) => void): void {
  out(uninstall(hooksDir).join('\n') + '\n');
}

export function runHookStatus(hooksDir: string, out: (s: string) => void): void {
  const st = statusLines(hooksDir);
  out(st.lines.join('\n') + '\n');
  if (st.broken) {
    stderr(`vnet-virt: hook status: the installed hook cannot run; run \`vnet-virt hook install\` again\n`);
    process.exitCode = 3;
  }
}
