// Talking to libvirt: virsh with a fixed argv, no shell. XML goes to virsh
// through a private temporary file (define, attach-device), never a command
// line. virsh's own error text is kept verbatim: it is the daemon's message.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, VnetError } from '../errors.js';
import { run } from '../host/run.js';
import type { Runner, RunResult } from '../host/run.js';

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

export function classify(r: RunResult): VirshFailure {
  const s = r.stderr;
  if (r.code === 127 && /ENOENT|not found/.test(s)) return 'missing';
  if (/failed to connect to the hypervisor|Failed to connect socket|no connection driver available/i.test(s)) return 'unreachable';
  if (/failed to get domain|Domain not found|no domain with matching/i.test(s)) return 'unknown-domain';
  if (/No more available PCI slots|no (free|available) (PCI )?(hotplug )?slot|PCI slot .* (in use|not available)/i.test(s)) return 'no-pci-slot';
  return 'other';
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

export class Virsh {
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
    const kind = classify(r);
    const said = virshMessage(r.stderr);
    switch (kind) {
      case 'missing':
        return new VirshError('virsh is not installed', kind, r.argv, {
          code: 'E_VIRSH_MISSING',
          exitCode: ExitCode.hostFailedUndone,
          where: '--connect',
          hint: 'install libvirt-clients (it has virsh)',
        });
      case 'unreachable':
        return new VirshError(`cannot reach libvirt at ${this.uri}: ${said}`, kind, r.argv, {
          code: 'E_LIBVIRT_UNREACHABLE',
          exitCode: ExitCode.hostFailedUndone,
          where: '--connect',
          hint: 'check the URI and that libvirtd runs (virsh -c URI version)',
        });
      case 'unknown-domain':
        return new VirshError(`no domain ${label ?? ''} at ${this.uri}`.replace('  ', ' '), kind, r.argv, {
          code: 'E_DOMAIN_UNKNOWN',
          exitCode: ExitCode.invalidInput,
          where: '--domain',
          hint: `virsh -c ${this.uri} list --all shows the defined domains`,
        });
      default:
        return new VirshError(`virsh ${r.argv.slice(4, 5).join('')} failed: ${said}`, kind, r.argv, {
          code: kind === 'no-pci-slot' ? 'E_NO_PCI_SLOT' : 'E_VIRSH_FAILED',
          exitCode: ExitCode.hostFailedUndone,
          file: label,
          hint: kind === 'no-pci-slot' ? 'the guest has no free hotplug slot: add a pcie-root-port (q35) or shut it down and attach without --live' : undefined,
        });
    }
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
}
