// Talking to libvirt through virsh, for URIs the RPC client does not serve
// (conn.ts): a fixed argv, no shell. XML goes to virsh through a private
// temporary file (define, attach-device), never a command line. virsh's own
// error text is kept verbatim: it is the daemon's message.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, VnetError } from '../errors.js';
import { run } from '../host/run.js';
import type { Runner, RunResult } from '../host/run.js';
import type { DomainInfo, LibvirtConn, Which } from './conn.js';

/** virsh's default, when LIBVIRT_DEFAULT_URI is not set either. */
export const SYSTEM_URI = 'qemu:///system';

export function defaultUri(env: NodeJS.ProcessEnv = process.env): string {
  const u = env.LIBVIRT_DEFAULT_URI;
  return u !== undefined && u !== '' ? u : SYSTEM_URI;
}

/** virsh's stderr without its `error: ` prefixes, as one line. */
export function virshMessage(stderr: string): string {
  return (
    stderr
      .split('\n')
      .map((l) => l.replace(/^error: /, '').trim())
      .filter((l) => l !== '')
      .join('; ') || 'no message'
  );
}

/** A failed virsh call; `kind` says what the caller can tell the user. */
export type VirshFailure = 'unreachable' | 'unknown-domain' | 'no-pci-slot' | 'missing' | 'other';

export const noPciSlot = (s: string): boolean => /No more available PCI slots|no (free|available) (PCI )?(hotplug )?slot|PCI slot .* (in use|not available)/i.test(s);

export function classify(r: RunResult): VirshFailure {
  const s = r.stderr;
  if (r.code === 127 && /ENOENT|not found/.test(s)) return 'missing';
  if (/failed to connect to the hypervisor|Failed to connect socket|no connection driver available/i.test(s)) return 'unreachable';
  if (/failed to get domain|Domain not found|no domain with matching/i.test(s)) return 'unknown-domain';
  if (noPciSlot(s)) return 'no-pci-slot';
  return 'other';
}

/**
 * The one-line error for a failed libvirt call, by virsh or RPC. `said` is
 * the daemon's message, verbatim; `op` names the call ('virsh define', 'define').
 */
export function failure(kind: VirshFailure, said: string, c: { uri: string; label: string | undefined; op: string; argv: readonly string[] }): VirshError {
  switch (kind) {
    case 'missing':
      return new VirshError('virsh is not installed', kind, c.argv, {
        code: 'E_VIRSH_MISSING',
        exitCode: ExitCode.hostFailedUndone,
        where: '--connect',
        hint: 'install libvirt-clients (it has virsh)',
      });
    case 'unreachable':
      return new VirshError(`cannot reach libvirt at ${c.uri}: ${said}`, kind, c.argv, {
        code: 'E_LIBVIRT_UNREACHABLE',
        exitCode: ExitCode.hostFailedUndone,
        where: '--connect',
        hint: 'check the URI and that libvirtd runs (virsh -c URI version)',
      });
    case 'unknown-domain':
      return new VirshError(`no domain ${c.label ?? ''} at ${c.uri}`.replace('  ', ' '), kind, c.argv, {
        code: 'E_DOMAIN_UNKNOWN',
        exitCode: ExitCode.invalidInput,
        where: '--domain',
        hint: `virsh -c ${c.uri} list --all shows the defined domains`,
      });
    default:
      return new VirshError(`${c.op} failed: ${said}`, kind, c.argv, {
        code: kind === 'no-pci-slot' ? 'E_NO_PCI_SLOT' : 'E_VIRSH_FAILED',
        exitCode: ExitCode.hostFailedUndone,
        file: c.label,
        hint: kind === 'no-pci-slot' ? 'the guest has no free hotplug slot: add a pcie-root-port (q35) or shut it down and attach without --live' : undefined,
      });
  }
}

export class VirshError extends VnetError {
  constructor(
    message: string,
    readonly kind: VirshFailure,
    readonly argv: readonly string[],
    init: { code: string; exitCode: ExitCode; file?: string | undefined; where?: string | undefined; hint?: string | undefined },
  ) {
    super(message, init);
    this.name = 'VirshError';
  }
}

export interface VirshOptions {
  uri: string;
  runner?: Runner | undefined;
  /** Per call; a hung daemon must not hang the command. */
  timeoutMs?: number | undefined;
}

export class Virsh implements LibvirtConn {
  readonly via = 'virsh' as const;
  readonly uri: string;
  private readonly runner: Runner;
  private readonly timeoutMs: number;
  /** virsh processes started (bench and tests). */
  calls = 0;

  constructor(opts: VirshOptions) {
    this.uri = opts.uri;
    this.runner = opts.runner ?? run;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  argv(args: readonly string[]): string[] {
    return ['virsh', '-q', '-c', this.uri, ...args];
  }

  /** Runs virsh; the result as it is (callers that expect failures look at the code). */
  async raw(args: readonly string[]): Promise<RunResult> {
    this.calls++;
    return this.runner(this.argv(args), { timeoutMs: this.timeoutMs });
  }

  /** Runs virsh and throws a one-line VirshError when it fails. `label` names the domain in the message. */
  async call(args: readonly string[], label?: string): Promise<string> {
    const r = await this.raw(args);
    if (r.code === 0) return r.stdout;
    throw this.failure(r, label);
  }

  failure(r: RunResult, label: string | undefined): VirshError {
    return failure(classify(r), virshMessage(r.stderr), { uri: this.uri, label, op: `virsh ${r.argv.slice(4, 5).join('')}`, argv: r.argv });
  }

  /** Runs virsh with XML in a private temporary file passed as `--file PATH`. */
  async withFile(args: readonly string[], xml: string, label?: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'vnet-virt-'));
    try {
      const file = join(dir, 'domain.xml');
      writeFileSync(file, xml, { mode: 0o600 });
      return await this.call([...args, '--file', file], label);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async lookup(ref: string): Promise<DomainInfo> {
    const info = parseDominfo(await this.call(['dominfo', '--domain', ref], `'${ref}'`));
    const name = info.get('Name');
    const uuid = info.get('UUID');
    if (!name || !uuid)
      throw new VirshError(`virsh dominfo said nothing about '${ref}'`, 'other', this.argv(['dominfo', '--domain', ref]), {
        code: 'E_VIRSH_FAILED',
        exitCode: ExitCode.hostFailedUndone,
        where: '--domain',
      });
    return { name, uuid, state: info.get('State') ?? 'unknown', persistent: info.get('Persistent') === 'yes', label: `${this.uri}/${name}` };
  }

  async names(): Promise<string[]> {
    const out = await this.call(['list', '--all', '--name']);
    return out
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  dumpxml(ref: string, which: Which, label: string): Promise<string> {
    return this.call(['dumpxml', '--domain', ref, ...(which === 'persistent' ? ['--inactive'] : [])], label);
  }

  async define(xml: string, label: string): Promise<void> {
    await this.withFile(['define'], xml, label);
  }

  async attachLive(ref: string, xml: string, label: string): Promise<void> {
    await this.withFile(['attach-device', '--domain', ref, '--live'], xml, label);
  }

  async detachLive(ref: string, xml: string, label: string): Promise<void> {
    await this.withFile(['detach-device', '--domain', ref, '--live'], xml, label);
  }

  async setLiveMetadata(ref: string, ns: string, key: string, xml: string | undefined, label: string): Promise<void> {
    const args = ['metadata', '--domain', ref, '--live', '--uri', ns];
    await this.call(xml === undefined ? [...args, '--remove'] : [...args, '--key', key, '--set', xml], label);
  }

  close(): void {}
}

/** `virsh dominfo` output as key -> value. */
export function parseDominfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!.trim(), m[2]!.trim());
  }
  return out;
}
