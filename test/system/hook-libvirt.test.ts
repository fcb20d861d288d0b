// The hook under a real libvirtd (hermetic: its own netns and a private
// /etc/libvirt/hooks): virsh start gets the recorded devices, destroy removes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_NS } from '../../src/domain/record.js';
import { ipIn, linksIn, runCli, tempDir } from '../helpers.js';
import type { LinkInfo } from '../helpers.js';
import { guestDomainXml, requireSystem, startLibvirt, waitShutoff } from './harness.js';
import type { Libvirt } from './harness.js';

interface Dom {
  name: string;
  xml: string;
  serial: string;
  tap: { dev: string; mac: string };
  mvt: { dev: string; mac: string; lower: string; peer: string };
}

/** A guest with a tap on `bridge` (its first NIC, which it pings over) and a macvtap on a veth pair. */
function domain(dir: string, name: string, n: number, bridge: string): Dom {
  const hex = n.toString(16).padStart(2, '0');
  const tap = { dev: `t-${name}-0`, mac: `52:54:00:d0:${hex}:01` };
  const mvt = { dev: `mvt-${name}`, mac: `52:54:00:d0:${hex}:02`, lower: `vl-${name}`, peer: `vp-${name}` };
  const serial = join(dir, `${name}.serial`);
  const xml = guestDomainXml({
    name,
    serialLog: serial,
    guestIp: `192.0.2.${10 + n}/24`,
    peerIp: '192.0.2.1',
    metadataXml:
      `<vnet:record xmlns:vnet="${RECORD_NS}">` +
      `<vnet:tap dev="${tap.dev}" mac="${tap.mac}" bridge="${bridge}"/>` +
      `<vnet:macvtap dev="${mvt.dev}" mac="${mvt.mac}" lower="${mvt.lower}" mode="vepa" veth-peer="${mvt.peer}" bridge="${bridge}"/>` +
      `</vnet:record>`,
    interfacesXml: [tap, mvt]
      .map((d) => `<interface type="ethernet"><mac address="${d.mac}"/><target dev="${d.dev}" managed="no"/><model type="virtio"/></interface>`)
      .join('\n    '),
  });
  return { name, xml, serial, tap, mvt };
}

const devicesOf = (d: Dom): string[] => [d.tap.dev, d.mvt.dev, d.mvt.lower, d.mvt.peer];
const present = (lv: Libvirt, d: Dom): string[] => linksIn(lv.ns).map((l) => l.ifname).filter((n) => devicesOf(d).includes(n));

async function define(lv: Libvirt, dir: string, d: Dom): Promise<void> {
  const file = join(dir, `${d.name}.xml`);
  writeFileSync(file, d.xml);
  const r = await lv.virsh('define', file);
  assert.equal(r.code, 0, r.stderr);
}

function assertOpened(lv: Libvirt, d: Dom): void {
  const links = new Map(linksIn(lv.ns).map((l): [string, LinkInfo] => [l.ifname, l]));
  const tap = links.get(d.tap.dev);
  const mvt = links.get(d.mvt.dev);
  assert.ok(tap && mvt, `devices of ${d.name}: ${[...links.keys()].join(' ')}\n${lv.logs(d.name)}`);
  assert.equal(tap.master, 'br0');
  assert.equal(mvt.address, d.mvt.mac, 'the macvtap carries the guest MAC');
  assert.equal(mvt.link, d.mvt.lower);
  assert.equal(links.get(d.mvt.peer)?.master, 'br0');
  // LOWER_UP on a tap or macvtap: QEMU has it open.
  assert.ok(tap.flags.includes('LOWER_UP'), `tap flags ${tap.flags.join(',')}`);
  assert.ok(mvt.flags.includes('LOWER_UP'), `macvtap flags ${mvt.flags.join(',')}`);
}

test('libvirt runs the hook installed with --reload into a running daemon: start provisions, destroy and shutdown clean up, a missing bridge fails the start', async (t) => {
  if (!requireSystem(t)) return;
  const hooks = tempDir('vnet-hooks-');
  const work = tempDir('vnet-hook-sys-');
  let lv: Libvirt | undefined;
  try {
    // The daemon is already running when the hook is installed: --reload makes it look again, so the
    // very first start runs the hook (without it libvirt fails: "target managed='no' but specified dev doesn't exist").
    lv = await startLibvirt({ hooksDir: hooks.dir });
    const inst = runCli(['hook', 'install', '--hooks-dir', hooks.dir, '--lock', join(work.dir, 'hook.lock'), '--reload'], {
      env: { ...process.env, VNET_VIRT_ALLOW_TEMPORARY_HOOK: '1' },
    });
    assert.equal(inst.code, 0, inst.stderr);
    assert.match(inst.stdout, /^reloaded libvirtd \(pid \d+\) with SIGHUP/m);
    ipIn(lv.ns, 'link', 'add', 'br0', 'type', 'bridge');
    ipIn(lv.ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'br0');
    ipIn(lv.ns, 'link', 'set', 'br0', 'up');
    const hookLog = join(lv.logDir, 'vnet-virt-hook.log');

    await t.test('virsh start right after install --reload: devices with the recorded MACs, opened by QEMU; virsh destroy: nothing left', async () => {
      const d = domain(work.dir, 'hk1', 1, 'br0');
      await define(lv!, work.dir, d);
      assert.deepEqual(present(lv!, d), [], 'defining creates nothing');
      const start = await lv!.virsh('start', d.name);
      assert.equal(start.code, 0, `${start.stderr}\n${lv!.logs(d.name)}`);
      assertOpened(lv!, d);
      const destroy = await lv!.virsh('destroy', d.name);
      assert.equal(destroy.code, 0, destroy.stderr);
      assert.deepEqual(present(lv!, d), []);
      const log = readFileSync(hookLog, 'utf8');
      assert.match(log, / hk1 prepare\/begin \[\d+\] up done/);
      assert.match(log, / hk1 release\/end \[\d+\] down done/);
      // The hook kept its journal in the daemon's private /run/vnet-virt, not in the machine's.
      assert.ok(existsSync(join(lv!.stateDir, 'pending')), `the hook's journal folder is in ${lv!.stateDir}`);
    });

    await t.test('a start whose bridge is missing fails with the hook line in virsh\'s error and leaves no device', async (t) => {
      const d = domain(work.dir, 'hk2', 2, 'nobr0');
      await define(lv!, work.dir, d);
      const start = await lv!.virsh('start', d.name);
      assert.notEqual(start.code, 0);
      t.diagnostic(`virsh start ${d.name}: ${start.stderr.trim().replace(/\n/g, ' | ')}`);
      assert.ok(
        start.stderr.includes('vnet-virt: hk2: bridge nobr0 does not exist (interface t-hk2-0)'),
        `virsh said: ${start.stderr}`,
      );
      assert.deepEqual(present(lv!, d), []);
      assert.equal((await lv!.virsh('domstate', d.name)).stdout.trim(), 'shut off');
    });

    await t.test('two domains started at the same time both come up, ping through the tap, and leave nothing', async () => {
      const ds = [domain(work.dir, 'hk3', 3, 'br0'), domain(work.dir, 'hk4', 4, 'br0')];
      for (const d of ds) await define(lv!, work.dir, d);
      const starts = await Promise.all(ds.map((d) => lv!.virsh('start', d.name)));
      starts.forEach((s, i) => assert.equal(s.code, 0, `${ds[i]!.name}: ${s.stderr}\n${lv!.logs(ds[i]!.name)}`));
      for (const d of ds) assertOpened(lv!, d);
      // The guests ping 192.0.2.1 on br0 through their tap, then power off (release end runs down).
      for (const d of ds) await waitShutoff(lv!, d.name, 90_000);
      for (const d of ds) {
        assert.match(readFileSync(d.serial, 'utf8'), /PING-OK/, `${d.name} serial`);
        assert.deepEqual(present(lv!, d), []);
      }
    });

    assert.deepEqual(
      linksIn(lv.ns).map((l) => l.ifname).filter((n) => n !== 'lo' && n !== 'br0'),
      [],
      'nothing of ours is left in the namespace',
    );
  } finally {
    await lv?.stop();
    work.cleanup();
    hooks.cleanup();
  }
});
