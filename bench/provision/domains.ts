// The domains bench/provision works on, made with the real attach commands.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { macvtapSpec, runAttach, tapSpec } from '../../src/commands/attach.js';

const repo = new URL('../../../', import.meta.url).pathname;

/** A Linux bridge takes at most 1,024 ports (BR_MAX_PORTS): domains are spread over bridges br0, br1, ... of this many each. */
export const DOMAINS_PER_BRIDGE = 500;

/** The bridges n domains use. */
export const bridgesFor = (n: number): string[] => Array.from({ length: Math.max(1, Math.ceil(n / DOMAINS_PER_BRIDGE)) }, (_, b) => `br${b}`);

export /** Writes n domain files into dir: even n a tap on a bridge, odd n veth + macvtap (peer on the bridge); domain i on br(i / 500). */
async function makeDomains(dir: string, n: number): Promise<void> {
  const quiet = (): void => {};
  const base = readFileSync(join(repo, 'fixtures/quickstart/web1.xml'), 'utf8');
  const tmp = mkdtempSync(join(tmpdir(), 'vnet-bench-tpl-'));
  const tap = join(tmp, 'tap.xml');
  const mv = join(tmp, 'mv.xml');
  writeFileSync(tap, base);
  writeFileSync(mv, base);
  await runAttach('attach-tap', tap, { tap: 'bt-IDX', bridge: 'bb-BRX', inPlace: true }, tapSpec, quiet);
  await runAttach('attach-macvtap', mv, { lower: 'bl-IDX', vethPeer: 'bp-IDX', bridge: 'bb-BRX', macvtap: 'bm-IDX', inPlace: true }, macvtapSpec, quiet);
  // Each domain gets its own guest MAC: the template's generated one, with the last three bytes replaced.
  const templates = [readFileSync(tap, 'utf8'), readFileSync(mv, 'utf8')].map((t) => {
    const mac = /<mac address=['"]([0-9a-f:]{17})['"]/.exec(t)![1]!;
    return t.replaceAll(mac, `${mac.slice(0, 8)}:MA:CX:XX`);
  });
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const hex = i.toString(16).padStart(6, '0');
    const mac = `${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
    const xml = templates[i % 2]!
      .replace('<name>web1</name>', `<name>vm${i}</name>`)
      .replace(/<uuid>[^<]*<\/uuid>/, `<uuid>00000000-0000-4000-8000-${i.toString().padStart(12, '0')}</uuid>`)
      .replaceAll('IDX', String(i))
      .replaceAll('bb-BRX', `br${Math.floor(i / DOMAINS_PER_BRIDGE)}`)
      .replaceAll('MA:CX:XX', mac);
    writeFileSync(join(dir, `vm${i.toString().padStart(5, '0')}.xml`), xml);
  }
}

