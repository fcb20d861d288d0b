// Benchmark (not a test): hot-plug a tap into a running guest and take it out
// again, `vnet-virt attach-tap --domain --live` / `detach --live` against the
// same job by hand (ip tuntap + ip link, virsh attach-device --live --config;
// virsh detach-device --live --config, ip link del). A private libvirtd and a
// booted guest, as the system tests use. Root: node dist/bench/libvirt/run.js [rounds]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipIn, tempDir } from '../../test/helpers.js';
import { guestDomainXml, startLibvirt } from '../../test/system/harness.js';

const repo = new URL('../../../', import.meta.url).pathname;
const cli = join(repo, 'dist/src/cli/main.js');
const rounds = Number(process.argv[2] ?? 5);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timed(argv: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: it starts a private libvirtd');
  const work = tempDir('vnet-bench-lv-');
  const lv = await startLibvirt({ waitMs: 1_200_000 });
  try {
    const ns = lv.ns;
    ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
    ipIn(ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'br0');
    ipIn(ns, 'link', 'set', 'br0', 'up');
    const serial = join(work.dir, 'bench.serial');
    const xml = guestDomainXml({ name: 'bench', serialLog: serial, guestIp: '192.0.2.40/24', peerIp: '192.0.2.1' }).replace(
      '</cmdline>',
      ' vnet.hotplug=1</cmdline>',
    );
    writeFileSync(join(work.dir, 'bench.xml'), xml);
    for (const args of [['define', join(work.dir, 'bench.xml')], ['start', 'bench']]) {
      const r = await lv.virsh(...args);
      if (r.code !== 0) throw new Error(`virsh ${args[0]}: ${r.stderr}`);
    }
    const until = Date.now() + 120_000;
    while (!(existsSync(serial) && readFileSync(serial, 'utf8').includes('HOTPLUG-READY'))) {
      if (Date.now() > until) throw new Error(`guest did not boot:\n${lv.logs('bench')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const virsh = ['virsh', '-q', '-c', lv.uri];
    const ours = { attach: [] as number[], detach: [] as number[] };
    const hand = { attach: [] as number[], detach: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const mac = `52:54:00:be:00:${(i + 1).toString(16).padStart(2, '0')}`;
      ours.attach.push(timed(['node', cli, 'attach-tap', '--domain', 'bench', '-c', lv.uri, '--live', '--netns', ns, '--tap', 'tb-ours', '--bridge', 'br0', '--mac', mac]));
      ours.detach.push(timed(['node', cli, 'detach', '--domain', 'bench', '-c', lv.uri, '--live', '--netns', ns, '--target', 'tb-ours']));
      // By hand: the same devices (a tap with vnet_hdr on the bridge), the same persistent change (--config).
      const iface = join(work.dir, 'iface.xml');
      writeFileSync(iface, `<interface type="ethernet"><mac address="${mac}"/><target dev="tb-hand" managed="no"/><model type="virtio"/></interface>\n`);
      const attach = [
        `ip -n ${ns} tuntap add dev tb-hand mode tap vnet_hdr`,
        `ip -n ${ns} link set tb-hand master br0`,
        `ip -n ${ns} link set tb-hand up`,
        `${virsh.join(' ')} attach-device bench ${iface} --live --config >/dev/null`,
      ];
      const detach = [`${virsh.join(' ')} detach-device bench ${iface} --live --config >/dev/null`, `ip -n ${ns} link del tb-hand`];
      writeFileSync(join(work.dir, 'attach.sh'), `set -e\n${attach.join('\n')}\n`);
      writeFileSync(join(work.dir, 'detach.sh'), `set -e\n${detach.join('\n')}\n`);
      hand.attach.push(timed(['sh', join(work.dir, 'attach.sh')]));
      hand.detach.push(timed(['sh', join(work.dir, 'detach.sh')]));
    }
    const row = (what: string, a: number[], b: number[]): string =>
      `${what.padEnd(7)} vnet-virt ${median(a).toFixed(0).padStart(5)} ms   by hand ${median(b).toFixed(0).padStart(5)} ms   hand/vnet-virt ${(median(b) / median(a)).toFixed(2)}x`;
    console.log(`one tap hot-plugged into and out of a running TCG guest (i440fx, ACPI); median of ${rounds} rounds`);
    console.log(row('attach', ours.attach, hand.attach));
    console.log(row('detach', ours.detach, hand.detach));
  } finally {
    await lv.stop();
    work.cleanup();
  }
}

await main();
