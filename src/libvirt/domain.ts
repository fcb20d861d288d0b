// A libvirt domain by name or UUID: its state, its two definitions (persistent
// and live), and the writes vnet-virt makes (define, hot-plug, live metadata).
import { ExitCode } from '../errors.js';
import { Virsh, VirshError } from './virsh.js';

export interface DomainInfo {
  name: string;
  uuid: string;
  /** virsh's words: 'running', 'shut off', 'paused'... */
  state: string;
  /** false for a transient domain: it has no persistent definition. */
  persistent: boolean;
  /** How messages name it: `URI/NAME`. */
  label: string;
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

export const domainLabel = (uri: string, name: string): string => `${uri}/${name}`;

/** A domain is live-changeable while its QEMU runs (paused guests take hot-plug too). */
export const isActive = (d: DomainInfo): boolean => d.state === 'running' || d.state === 'paused' || d.state === 'idle';

export class LibvirtDomain {
  constructor(
    readonly virsh: Virsh,
    readonly info: DomainInfo,
  ) {}

  static async lookup(virsh: Virsh, ref: string): Promise<LibvirtDomain> {
    const info = parseDominfo(await virsh.call(['dominfo', '--domain', ref], `'${ref}'`));
    const name = info.get('Name');
    const uuid = info.get('UUID');
    if (!name || !uuid)
      throw new VirshError(`virsh dominfo said nothing about '${ref}'`, 'other', virsh.argv(['dominfo', '--domain', ref]), {
        code: 'E_VIRSH_FAILED',
        exitCode: ExitCode.hostFailedUndone,
        where: '--domain',
      });
    return new LibvirtDomain(virsh, {
      name,
      uuid,
      state: info.get('State') ?? 'unknown',
      persistent: info.get('Persistent') === 'yes',
      label: domainLabel(virsh.uri, name),
    });
  }

  /** Every domain the URI knows (defined or running), by name. */
  static async names(virsh: Virsh): Promise<string[]> {
    const out = await virsh.call(['list', '--all', '--name']);
    return out
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  get label(): string {
    return this.info.label;
  }

  private get ref(): string[] {
    return ['--domain', this.info.uuid];
  }

  /** The persistent definition (what the next start uses), or the live one. */
  dumpxml(which: 'persistent' | 'live'): Promise<string> {
    return this.virsh.call(['dumpxml', ...this.ref, ...(which === 'persistent' ? ['--inactive'] : [])], this.label);
  }

  /** Writes a persistent definition; a refusal carries the daemon's message verbatim. */
  async define(xml: string): Promise<void> {
    try {
      await this.virsh.withFile(['define'], xml, this.label);
    } catch (e) {
      if (e instanceof VirshError && e.kind === 'other')
        throw new VirshError(`libvirt refused the definition: ${e.message.replace(/^virsh define failed: /, '')}`, e.kind, e.argv, {
          code: 'E_DEFINE_REFUSED',
          exitCode: ExitCode.invalidInput,
          file: this.label,
          hint: 'nothing was changed',
        });
      throw e;
    }
  }

  attachLive(deviceXml: string): Promise<string> {
    return this.virsh.withFile(['attach-device', ...this.ref, '--live'], deviceXml, this.label);
  }

  detachLive(deviceXml: string): Promise<string> {
    return this.virsh.withFile(['detach-device', ...this.ref, '--live'], deviceXml, this.label);
  }

  /** Sets (or with xml undefined removes) vnet-virt's element in the live definition's <metadata>. */
  async setLiveMetadata(ns: string, key: string, xml: string | undefined): Promise<void> {
    const args = ['metadata', ...this.ref, '--live', '--uri', ns];
    await this.virsh.call(xml === undefined ? [...args, '--remove'] : [...args, '--key', key, '--set', xml], this.label);
  }
}
