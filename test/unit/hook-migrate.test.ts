// The hook's migrate begin: the host map (parse, byte-exact rewrite) and the
// refusal when the destination lacks a bridge or lower device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkNeeds, hookMigrateBegin, mapDomain, parseHostMap } from '../../src/hook/migrate.js';
import { hookMain } from '../../src/hook/dispatch.js';
import { RECORD_NS } from '../../src/domain/record.js';
import { VnetError } from '../../src/errors.js';
import type { Runner } from '../../src/host/run.js';
import { runCli, tempDir } from '../helpers.js';

const XML = `<?xml version="1.0"?>
<!-- keep me -->
<domain type='qemu'>
  <name>web1</name>
  <metadata>
    <vnet:record xmlns:vnet="${RECORD_NS}">
      <vnet:tap dev="t-web1-0" mac="52:54:00:00:00:01" bridge="br0"/>
      <vnet:macvtap dev="mvt-web1" mac="52:54:00:00:00:02" lower="vl-web1" mode="vepa" veth-peer="vp-web1" bridge='br0'/>
      <vnet:macvtap dev="mvt-up" mac="52:54:00:00:00:03" lower="eth0" mode="bridge"/>
    </vnet:record>
  </metadata>
  <devices>
    <interface type='direct'>
      <source dev='eth0' mode='vepa'/>
    </interface>
    <interface type="bridge"><source bridge="br0"/></interface>
  </devices>
</domain>
`;

const links = (...names: string[]): Runner => async (argv) => ({ argv, code: 0, stdout: JSON.stringify(names.map((ifname) => ({ ifname }))), stderr: '' });

test('host map: bridge and lower lines, comments; a bad line names file and line', () => {
  const m = parseHostMap('# LAN\nbridge br0 = br-lan   # here\nlower eth0=ens3\n\n', '/m.conf');
  assert.deepEqual([...m.bridge], [['br0', 'br-lan']]);
  assert.deepEqual([...m.lower], [['eth0', 'ens3']]);
  for (const bad of ['bridge br0', 'bridges br0 = x', 'bridge br0 = a/b', 'bridge br0 = 0123456789abcdef', 'bridge a = b\nbridge a = c']) {
    assert.throws(() => parseHostMap(bad, '/m.conf'), (e: unknown) => e instanceof VnetError && e.code === 'E_HOST_MAP' && e.file === '/m.conf' && /^line \d$/.test(e.where ?? ''), bad);
  }
});

test('mapDomain rewrites record bridges, lower devices without a veth, direct and bridge sources; every other byte stays', () => {
  const map = parseHostMap('bridge br0 = br1\nlower eth0 = ens3\n', '/m');
  const r = mapDomain(XML, map);
  assert.equal(r.changed, true);
  const expected = XML.replace('bridge="br0"/>\n      <vnet:macvtap', 'bridge="br1"/>\n      <vnet:macvtap')
    .replace("bridge='br0'/>", "bridge='br1'/>")
    .replace('lower="eth0"', 'lower="ens3"')
    .replace("<source dev='eth0'", "<source dev='ens3'")
    .replace('<source bridge="br0"/>', '<source bridge="br1"/>');
  assert.equal(r.xml, expected);
  assert.deepEqual(r.needs.map((n) => `${n.kind} ${n.name}${n.was ? ` (${n.was})` : ''} ${n.iface}`), [
    'bridge br1 (br0) t-web1-0', 'bridge br1 (br0) mvt-web1', 'lower ens3 (eth0) mvt-up', 'lower ens3 (eth0) eth0', 'bridge br1 (br0) br0',
  ]);
  // The veth lower is vnet-virt's own: never mapped.
  assert.ok(r.xml.includes('lower="vl-web1"'));
  const same = mapDomain(XML, undefined);
  assert.equal(same.changed, false);
  assert.equal(same.xml, XML);
});

test('checkNeeds: a missing bridge refuses with one line naming bridge, interface and the map; present ones pass', async () => {
  const { needs } = mapDomain(XML, parseHostMap('bridge br0 = br1\n', '/etc/vnet-virt/host-map.conf'));
  await checkNeeds('web1', needs, undefined, undefined, links('br1', 'eth0'));
  await assert.rejects(checkNeeds('web1', needs, parseHostMap('bridge br0 = br1\n', '/m'), undefined, links('eth0', 'br0')), (e: unknown) => {
    assert.ok(e instanceof VnetError);
    assert.equal(e.exitCode, 3);
    assert.equal(e.oneLine(), 'web1: migration refused: bridge br1 (mapped from br0 by /m) does not exist on this host (interface t-web1-0); create it, or map it to this host\'s name in /m ("bridge br0 = NAME"); a new empty bridge is never made for an incoming guest');
    return true;
  });
});

test('hook migrate begin: mapped XML on stdout, nothing when unchanged, refusal on stderr with exit 3, no work without record or map', async () => {
  const tmp = tempDir();
  try {
    const map = join(tmp.dir, 'map.conf');
    writeFileSync(map, 'bridge br0 = lo\nlower eth0 = lo\n');
    const out: string[] = [];
    const err: string[] = [];
    const io = (xml: string, env: Record<string, string>) => ({ stdin: () => xml, stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env });
    // `lo` exists in every namespace: the mapped guest passes.
    const ok = await hookMigrateBegin('web1', io(XML, { VNET_VIRT_HOOK_HOST_MAP: map, VNET_VIRT_HOOK_CONFIG: '/nonexistent' }), {});
    assert.deepEqual([ok.code, err], [0, []]);
    assert.equal(out.join(''), mapDomain(XML, parseHostMap('bridge br0 = lo\nlower eth0 = lo\n', map)).xml);
    out.length = 0;
    const refused = await hookMain(['web1', 'migrate', 'begin', '-'], io(XML, { VNET_VIRT_HOOK_HOST_MAP: join(tmp.dir, 'none'), VNET_VIRT_HOOK_CONFIG: '/nonexistent' }));
    assert.equal(refused.code, 3);
    assert.deepEqual(out, []);
    assert.match(err.join(''), /^vnet-virt: web1: migration refused: bridge br0 does not exist on this host \(interface t-web1-0\); create it/);
    assert.equal(err.join('').split('\n').length, 2);
    err.length = 0;
    const plain = await hookMain(['p', 'migrate', 'begin', '-'], io('<domain><name>p</name></domain>', { VNET_VIRT_HOOK_HOST_MAP: join(tmp.dir, 'none') }));
    assert.deepEqual([plain.code, plain.outcome, out, err], [0, 'no-record', [], []]);
    // hook replay prints the mapped XML too.
    const f = join(tmp.dir, 'web1.xml');
    writeFileSync(f, XML);
    const r = runCli(['hook', 'replay', '--xml', f, 'migrate', 'begin'], { env: { ...process.env, VNET_VIRT_HOOK_HOST_MAP: map, VNET_VIRT_HOOK_CONFIG: '/nonexistent' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bridge="lo"/);
  } finally {
    tmp.cleanup();
  }
});
