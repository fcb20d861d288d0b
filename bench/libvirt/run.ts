// Benchmark (not a test): hot-plug a tap into a running guest and take it out
// again, `vnet-virt attach-tap --domain --live` / `detach --live` against the
// same job by hand (ip tuntap + ip link, virsh attach-device --live --config;
// virsh detach-device --live --config, ip link del). A private libvirtd and a
// booted guest, as the system tests use. vnet-virt talks libvirt's RPC protocol
// on the daemon's socket; with --virsh it also times the same commands through
// virsh (VNET_VIRT_LIBVIRT=virsh), the way it worked before.
// Root: node dist/bench/libvirt/run.js [rounds] [--quick] [--virsh]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipIn, tempDir } from '../../test/helpers.js';
import { guestDomainXml, startLibvirt } from '../../test/system/harness.js';
import { benchLine, median } from '../table.js';
import type { BenchRow } from '../table.js';

const repo = new URL('../../../', import.meta.url).pathname;
const cli = join(repo, 'dist/src/cli/main.js');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const viaVirsh = args.includes('--virsh');
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? (quick ? 3 : 7));

/** CPU time (user + sys, ms) of this process's waited-for children so far: /proc/self/stat cutime + cstime. */
function childrenCpuMs(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

/** CPU per run, beside the wall time: under load it says more (10 ms resolution). */
const cpu: Record<string, number[]> = {};

function timed(argv: string[], env: NodeJS.ProcessEnv = process.env, key?: string): number {
  const c0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  if (key) (cpu[key] ??= []).push(childrenCpuMs() - c0);
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
    const virshPath = { attach: [] as number[], detach: [] as number[] };
    const env = { ...process.env, VNET_VIRT_LIBVIRT: 'virsh' };
    // One round first, not counted: caches warm, the guest's hot-plug path awake.
    for (let i = -1; i < rounds; i++) {
      const mac = `52:54:00:be:00:${(i + 2).toString(16).padStart(2, '0')}`;
      const a = timed(['node', cli, 'attach-tap', '--domain', 'bench', '-c', lv.uri, '--live', '--netns', ns, '--tap', 'tb-ours', '--bridge', 'br0', '--mac', mac], process.env, i >= 0 ? 'ours attach' : undefined);
      const d = timed(['node', cli, 'detach', '--domain', 'bench', '-c', lv.uri, '--live', '--netns', ns, '--target', 'tb-ours'], process.env, i >= 0 ? 'ours detach' : undefined);
      if (i >= 0) ours.attach.push(a);
      if (i >= 0) ours.detach.push(d);
      if (viaVirsh) {
        const va = timed(['node', cli, 'attach-tap', '--domain', 'bench', '-c', lv.uri, '--live', '--netns', ns, '--tap', 'tb-ours', '--bridge', 'br0', '--mac', mac], env);
        const vd = timed(['node', cli, 'detach', '--domain', 'bench', '-c', lv.uri, '--live', '--netns', ns, '--target', 'tb-ours'], env);
        if (i >= 0) virshPath.attach.push(va);
        if (i >= 0) virshPath.detach.push(vd);
      }
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
      const ha = timed(['sh', join(work.dir, 'attach.sh')], process.env, i >= 0 ? 'hand attach' : undefined);
      const hd = timed(['sh', join(work.dir, 'detach.sh')], process.env, i >= 0 ? 'hand detach' : undefined);
      if (i >= 0) hand.attach.push(ha);
      if (i >= 0) hand.detach.push(hd);
    }
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const row = (what: string, a: number[], b: number[], who = 'vnet-virt'): string =>
      `${what.padEnd(7)} ${who} ${median(a).toFixed(0).padStart(5)} ms   by hand ${median(b).toFixed(0).padStart(5)} ms   ${who}/hand ${(median(a) / median(b)).toFixed(2)}x`;
    console.log(`one tap hot-plugged into and out of a running TCG guest (i440fx, ACPI); median of ${rounds} interleaved rounds; load ${load}`);
    console.log(row('attach', ours.attach, hand.attach));
    console.log(row('detach', ours.detach, hand.detach));
    const c = (k: string): string => `${median(cpu[k]!).toFixed(0)} ms`;
    console.log(`CPU (user+sys, with children): attach ${c('ours attach')} vs ${c('hand attach')} by hand; detach ${c('ours detach')} vs ${c('hand detach')}`);
    if (viaVirsh) {
      console.log(row('attach', virshPath.attach, hand.attach, 'vnet-virt over virsh'));
      console.log(row('detach', virshPath.detach, hand.detach, 'vnet-virt over virsh'));
    }
    const benchRow = (what: string, a: number[], b: number[], anchor: string): BenchRow => ({
      what,
      value: median(a),
      unit: 'ms',
      anchor,
      anchorValue: median(b),
      ratio: median(a) / median(b),
      aim: '<= 1.00x',
    });
    const rows = [
      benchRow('attach-tap --domain --live (provision + hot-plug)', ours.attach, hand.attach, 'ip tuntap/link + virsh attach-device --live --config'),
      benchRow('detach --live (unplug + delete)', ours.detach, hand.detach, 'virsh detach-device --live --config + ip link del'),
    ];
    console.log(benchLine('libvirt', rows));
  } finally {
    await lv.stop();
    work.cleanup();
  }
}

await main();
