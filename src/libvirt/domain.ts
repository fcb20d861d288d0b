// A libvirt domain by name or UUID: its state, its two definitions (persistent
// and live), and the writes vnet-virt makes (define, hot-plug, live metadata).
import { ExitCode } from '../errors.js';
import type { DomainInfo, LibvirtConn, Which } from './conn.js';
import { VirshError } from './virsh.js';

export type { DomainInfo } from './conn.js';
export { domainLabel } from './conn.js';

/** A domain is live-changeable while its QEMU runs (paused guests take hot-plug too). */
export const isActive = (d: DomainInfo): boolean => d.state === 'running' || d.state === 'paused' || d.state === 'idle';

export class LibvirtDomain {
  constructor(
    readonly conn: LibvirtConn,
    readonly info: DomainInfo,
  ) {}

  static async lookup(conn: LibvirtConn, ref: string): Promise<LibvirtDomain> {
    return new LibvirtDomain(conn, await conn.lookup(ref));
  }

  /** Every domain the URI knows (defined or running), by name. */
  static names(conn: LibvirtConn): Promise<string[]> {
    return conn.names();
  }

  get label(): string {
    return this.info.label;
  }

  /** The persistent definition (what the next start uses), or the live one. */
  dumpxml(which: Which): Promise<string> {
    return this.conn.dumpxml(this.info.uuid, which, this.label);
  }

  /** Writes a persistent definition; a refusal carries the daemon's message verbatim. */
  async define(xml: string): Promise<void> {
    try {
      await this.conn.define(xml, this.label);
    } catch (e) {
      if (e instanceof VirshError && e.kind === 'other')
        throw new VirshError(`libvirt refused the definition: ${e.message.replace(/^(virsh )?define failed: /, '')}`, e.kind, e.argv, {
          code: 'E_DEFINE_REFUSED',
          exitCode: ExitCode.invalidInput,
          file: this.label,
          hint: 'nothing was changed',
        });
      throw e;
    }
  }

  attachLive(deviceXml: string): Promise<void> {
    return this.conn.attachLive(this.info.uuid, deviceXml, this.label);
  }

  detachLive(deviceXml: string): Promise<void> {
    return this.conn.detachLive(this.info.uuid, deviceXml, this.label);
  }

  /** Sets (or with xml undefined removes) vnet-virt's element in the live definition's <metadata>. */
  setLiveMetadata(ns: string, key: string, xml: string | undefined): Promise<void> {
    return this.conn.setLiveMetadata(this.info.uuid, ns, key, xml, this.label);
  }
}
