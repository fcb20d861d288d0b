// A stand-in for virsh: domains with a persistent and a live definition, the
// calls vnet-virt makes (dominfo, dumpxml, define, attach/detach-device,
// metadata, list), and faults to inject. Tests see every argv it was given.
import { readFileSync } from 'node:fs';
import type { RunOptions, RunResult } from '../../src/host/run.js';
import { Virsh } from '../../src/libvirt/virsh.js';

export interface FakeDomain {
  name: string;
  uuid: string;
  state: 'running' | 'shut off';
  persistent: string | undefined;
  live: string | undefined;
}

export const FAKE_URI = 'test:///fake';

export class FakeVirsh {
  readonly domains: FakeDomain[] = [];
  readonly calls: string[][] = [];
  /** stderr for a command that must fail (by virsh subcommand). */
  readonly fail = new Map<string, string>();
  /** detach-device says success but the guest keeps the device. */
  guestIgnoresEject = false;
  unreachable = false;
  /** Called before each command is answered (tests change a domain behind vnet-virt's back here). */
  before: ((cmd: string, args: readonly string[]) => void) | undefined;

  add(d: FakeDomain): FakeDomain {
    this.domains.push(d);
    return d;
  }

  virsh(): Virsh {
    return new Virsh({ uri: FAKE_URI, runner: (argv, opts) => this.run(argv, opts) });
  }

  private find(ref: string | undefined): FakeDomain | undefined {
    return this.domains.find((d) => d.name === ref || d.uuid === ref);
  }

  async run(argv: readonly string[], _opts?: RunOptions): Promise<RunResult> {
    this.calls.push([...argv]);
    const res = (code: number, stdout = '', stderr = ''): RunResult => ({ argv, code, stdout, stderr });
    const args = argv.slice(4);
    const cmd = args[0]!;
    const opt = (name: string): string | undefined => {
      const i = args.indexOf(name);
      return i === -1 ? undefined : args[i + 1];
    };
    if (this.unreachable) return res(1, '', `error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/nowhere': No such file or directory\n`);
    this.before?.(cmd, args);
    const failure = this.fail.get(cmd);
    if (failure !== undefined) return res(1, '', failure);
    if (cmd === 'list') return res(0, this.domains.map((d) => d.name).join('\n') + '\n\n');
    const dom = this.find(opt('--domain'));
    if (cmd === 'define') {
      const xml = readFileSync(opt('--file')!, 'utf8');
      const name = /<name>([^<]*)<\/name>/.exec(xml)?.[1];
      const d = this.find(name);
      if (!d) return res(1, '', 'error: unexpected define of a new domain\n');
      d.persistent = xml;
      return res(0, `Domain '${d.name}' defined from ${opt('--file')}\n`);
    }
    if (!dom) return res(1, '', `error: failed to get domain '${opt('--domain')}'\n`);
    switch (cmd) {
      case 'dominfo':
        return res(
          0,
          `Id:             ${dom.state === 'running' ? '1' : '-'}\nName:           ${dom.name}\nUUID:           ${dom.uuid}\nOS Type:        hvm\nState:          ${dom.state}\nPersistent:     ${dom.persistent ? 'yes' : 'no'}\n\n`,
        );
      case 'dumpxml': {
        const xml = args.includes('--inactive') || dom.state !== 'running' ? (dom.persistent ?? dom.live) : dom.live;
        return res(0, xml!);
      }
      case 'attach-device': {
        const block = readFileSync(opt('--file')!, 'utf8');
        dom.live = dom.live!.replace(/(\n *)<\/devices>/, `$1  ${block}$1</devices>`);
        return res(0, 'Device attached successfully\n');
      }
      case 'detach-device': {
        const block = readFileSync(opt('--file')!, 'utf8');
        if (!this.guestIgnoresEject) dom.live = dom.live!.replace(block, '');
        return res(0, 'Device detached successfully\n');
      }
      case 'metadata': {
        const set = opt('--set');
        dom.live = dom.live!.replace(/<metadata>[\s\S]*<\/metadata>/, '').replace('</name>', `</name><metadata>${set === undefined ? '' : set.replace('<record', `<vnet:record xmlns:vnet="${opt('--uri')}"`).replace(/<(\/?)(tap|macvtap|record)\b/g, '<$1vnet:$2')}</metadata>`);
        return res(0, '');
      }
    }
    return res(1, '', `error: fake virsh does not know '${cmd}'\n`);
  }
}
