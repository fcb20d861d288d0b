// Domains by name and live hot-plug under a real libvirtd (hermetic, as the
// system tier does) with a booted guest in vnet.hotplug=1 mode: its init
// brings up every NIC that appears and pings the bridge through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { spawn } from 'node:child_process';
import { cliPath, ipIn, linksIn, repoRoot, runCli, seededRandom, tempDir } from '../helpers.js';
import type { CliResult } from '../helpers.js';
import { guestDomainXml, requireSystem, startLibvirt } from './harness.js';
import type { Libvirt } from './harness.js';

const Ajv = AjvModule.default;
const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(join(repoRoot, 'schemas/attach-result.json'), 'utf8')));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A guest whose init watches for NICs (vnet.hotplug=1); machine: libvirt's default, i440fx pc, with ACPI. */
function hotplugGuest(dir: string, name: string, n: number, extra = ''): { xml: string; serial: string } {
  const serial = join(dir, `${name}.serial`);
  const xml = guestDomainXml({ name, serialLog: serial, guestIp: `192.0.2.${40 + n * 20}/24`, peerIp: '192.0.2.1', interfacesXml: extra })
    .replace('vnet.peer=192.0.2.1</cmdline>', 'vnet.peer=192.0.2.1 vnet.hotplug=1</cmdline>');
  return { xml, serial };
}

/** Waits until the serial log matches; fails with the log after timeoutMs. */
async function serialSays(lv: Libvirt, name: string, serial: string, re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(serial) ? readFileSync(serial, 'utf8') : '';
    const m = text.match(re);
    if (m) return m;
    if (Date.now() > until) assert.fail(`${name}: no ${re} on the serial console after ${timeoutMs} ms:\n${text.slice(-2000)}\n${lv.logs(name)}`);
    await sleep(100);
  }
}

const devices = (lv: Libvirt): string[] => linksIn(lv.ns).map((l) => l.ifname);

function ok(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}: ${r.stderr}`);
}

/** The CLI in its own process, not waited for: for runs at once, and for kill -9. */
function startCli(args: string[]): { pid: number; done: Promise<CliResult> } {
  const c = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => c.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })));
  return { pid: c.pid!, done };
}

test('by name and live: hot-plug a tap and a macvtap into a running guest, unplug them, and the bad inputs', async (t) => {
  if (!requireSystem(t)) return;
  const hooks = tempDir('vnet-live-hooks-');
  const work = tempDir('vnet-live-');
  let lv: Libvirt | undefined;
  try {
    ok(runCli(['hook', 'install', '--hooks-dir', hooks.dir, '--lock', join(work.dir, 'hook.lock')]), 'hook install');
    lv = await startLibvirt({ hooksDir: hooks.dir, waitMs: 900_000 });
    const t0 = performance.now();
    const L = lv;
    const ns = L.ns;
    ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge');
    ipIn(ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'br0');
    ipIn(ns, 'link', 'set', 'br0', 'up');
    const cli = (...args: string[]): CliResult => runCli([...args, '-c', L.uri]);
    const define = async (name: string, xml: string): Promise<void> => {
      const file = join(work.dir, `${name}.xml`);
      writeFileSync(file, xml);
      const r = await L.virsh('define', file);
      assert.equal(r.code, 0, r.stderr);
    };
    const xmlOf = async (name: string, inactive: boolean): Promise<string> => (await L.virsh('dumpxml', name, ...(inactive ? ['--inactive'] : []))).stdout;

    const g1 = hotplugGuest(work.dir, 'hp1', 1);
    await define('hp1', g1.xml);
    const start = await L.virsh('start', 'hp1');
    assert.equal(start.code, 0, `${start.stderr}\n${L.logs('hp1')}`);
    // A second domain, shut off, for the by-name attach that the hook makes real at start.
    const g2 = hotplugGuest(work.dir, 'hp2', 2);
    await define('hp2', g2.xml);
    await serialSays(L, 'hp1', g1.serial, /HOTPLUG-READY/, 90_000);

    const tapMac = '52:54:00:e1:00:01';
    const mvtMac = '52:54:00:e1:00:02';
    await t.test('attach-tap --live: the guest sees the NIC, brings it up and pings; both definitions carry it', async () => {
      const r = cli('attach-tap', '--domain', 'hp1', '--live', '--netns', ns, '--tap', 't-hp1-a', '--bridge', 'br0', '--mac', tapMac, '--json');
      ok(r, 'attach-tap --live');
      const j = JSON.parse(r.stdout) as Record<string, any>;
      assert.ok(validate(j), JSON.stringify(validate.errors));
      assert.equal(j.file, `${L.uri}/hp1`);
      assert.deepEqual([j.action, j.libvirt.defined, j.libvirt.live, j.libvirt.definition], ['added', true, 'hot-plugged', 'persistent']);
      const m = await serialSays(L, 'hp1', g1.serial, new RegExp(`HOTPLUG-PING-(OK|FAIL) (eth\\d+) ${tapMac}`));
      assert.equal(m[1], 'OK', `guest ping through the hot-plugged tap: ${m[0]}`);
      const tap = linksIn(ns).find((l) => l.ifname === 't-hp1-a');
      assert.equal(tap?.master, 'br0');
      assert.match(tap?.ifalias ?? '', /^vnet-virt:/);
      const persistent = await xmlOf('hp1', true);
      assert.match(persistent, /<target dev=.t-hp1-a. managed=.no.\/>/);
      assert.match(persistent, /<vnet:tap dev=.t-hp1-a./);
      // The live definition keeps the record in step (the hook's release end reads it).
      assert.match(await xmlOf('hp1', false), /<vnet:tap dev=.t-hp1-a./);
    });

    await t.test('attach-macvtap --live (veth peer on the bridge): the guest pings through it', async () => {
      const r = cli('attach-macvtap', '--domain', 'hp1', '--live', '--netns', ns, '--macvtap', 'mvt-hp1', '--lower', 'vl-hp1', '--veth-peer', 'vp-hp1', '--bridge', 'br0', '--mac', mvtMac);
      ok(r, 'attach-macvtap --live');
      const m = await serialSays(L, 'hp1', g1.serial, new RegExp(`HOTPLUG-PING-(OK|FAIL) (eth\\d+) ${mvtMac}`));
      assert.equal(m[1], 'OK', `guest ping through the hot-plugged macvtap: ${m[0]}`);
      assert.equal(linksIn(ns).find((l) => l.ifname === 'mvt-hp1')?.address, mvtMac);
    });

    await t.test('the same attach again changes nothing and defines nothing; check reads the live definition', async () => {
      const r = cli('attach-tap', '--domain', 'hp1', '--live', '--netns', ns, '--tap', 't-hp1-a', '--bridge', 'br0', '--mac', tapMac, '--json', '--print-diff');
      ok(r, 'attach-tap again');
      const j = JSON.parse(r.stdout) as Record<string, any>;
      assert.deepEqual([j.action, j.libvirt.defined, j.libvirt.live, j.diff], ['unchanged', false, 'unchanged', '']);
      // Through virsh (the way for URIs the RPC client does not serve), the same answer.
      const v = runCli(['attach-tap', '--domain', 'hp1', '--live', '--netns', ns, '--tap', 't-hp1-a', '--bridge', 'br0', '--mac', tapMac, '--json', '--print-diff', '-c', L.uri], {
        env: { ...process.env, VNET_VIRT_LIBVIRT: 'virsh' },
      });
      ok(v, 'attach-tap again, through virsh');
      assert.equal(v.stdout, r.stdout);
      const c = cli('check', '--domain', 'hp1', '--netns', ns, '--json');
      ok(c, 'check --domain');
      assert.match(c.stderr, /hp1: read the live definition \(running\)/);
      assert.deepEqual(JSON.parse(c.stdout).definitions, [{ file: `${L.uri}/hp1`, definition: 'live' }]);
    });

    await t.test('detach --live: gone from the guest, the host and the persistent definition', async () => {
      const r = cli('detach', '--domain', 'hp1', '--live', '--netns', ns, '--target', 't-hp1-a');
      ok(r, 'detach --live');
      const gone = await serialSays(L, 'hp1', g1.serial, new RegExp(`HOTPLUG-UP (eth\\d+) ${tapMac}`));
      await serialSays(L, 'hp1', g1.serial, new RegExp(`HOTPLUG-GONE ${gone[1]}\\b`));
      assert.ok(!devices(L).includes('t-hp1-a'), 'the tap is deleted');
      assert.doesNotMatch(await xmlOf('hp1', false), new RegExp(tapMac));
      assert.doesNotMatch(await xmlOf('hp1', true), /t-hp1-a/);
    });

    await t.test('detach --live-only: gone from the guest and the host; the persistent definition keeps it', async () => {
      const r = cli('detach', '--domain', 'hp1', '--live-only', '--netns', ns, '--target', 'mvt-hp1');
      ok(r, 'detach --live-only');
      assert.doesNotMatch(await xmlOf('hp1', false), new RegExp(mvtMac));
      assert.match(await xmlOf('hp1', true), /mvt-hp1/);
      assert.deepEqual(devices(L).filter((d) => ['mvt-hp1', 'vl-hp1', 'vp-hp1'].includes(d)), []);
    });

    await t.test('bad input: one line each, nothing changed', async () => {
      const before = await xmlOf('hp2', true);
      const cases: [string[], number, RegExp][] = [
        [['attach-tap', '--domain', 'no-such-domain', '--bridge', 'br0'], 3, /no domain 'no-such-domain' at /],
        [['attach-tap', '--domain', 'hp2', '--live', '--bridge', 'br0'], 3, /hp2 is shut off: --live needs a running guest; .*start/],
        [['attach-direct', '--domain', 'hp2', '--source', 'br0', '--pci-address', '0000:07:00.0'], 3, /libvirt refused the definition: /],
      ];
      for (const [args, code, re] of cases) {
        const r = cli(...args);
        assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, re);
      }
      const r = runCli(['attach-tap', '--domain', 'hp2', '--bridge', 'br0', '-c', 'qemu+unix:///system?socket=/nonexistent/sock']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^vnet-virt: --connect: cannot reach libvirt at qemu\+unix:\/\/\/system\?socket=\/nonexistent\/sock: .*\n$/);
      assert.equal(await xmlOf('hp2', true), before, 'hp2 is as it was');
    });

    await t.test('no free PCI hotplug slot (q35 without spare root ports): exit 1, one line, devices and definition as before', async () => {
      const g3 = hotplugGuest(work.dir, 'hp3', 3);
      // Without a USB controller libvirt adds no pcie-root-port, and pcie-root itself takes no hot-plug.
      await define(
        'hp3',
        g3.xml.replace('<type arch="x86_64">hvm</type>', '<type arch="x86_64" machine="q35">hvm</type>').replace('<memballoon', '<controller type="usb" model="none"/>\n    <memballoon'),
      );
      const s = await L.virsh('start', 'hp3');
      assert.equal(s.code, 0, `${s.stderr}\n${L.logs('hp3')}`);
      const before = await xmlOf('hp3', true);
      const r = cli('attach-tap', '--domain', 'hp3', '--live', '--netns', ns, '--tap', 't-hp3-a', '--bridge', 'br0');
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^vnet-virt: .*hp3: .*No more available PCI slots.*; undone: /m);
      assert.ok(!devices(L).includes('t-hp3-a'), 'the tap made for the hot-plug is deleted again');
      assert.equal(await xmlOf('hp3', true), before, 'the persistent definition is as it was');
      assert.doesNotMatch(await xmlOf('hp3', false), /t-hp3-a/);
      assert.equal((await L.virsh('destroy', 'hp3')).code, 0);
    });

    t.diagnostic(`hot-plug cases done after ${Math.round(performance.now() - t0)} ms`);
    await t.test('attach by name on a shut-off domain, then virsh start with the hook: the devices come, the guest pings', async () => {
      const mac = '52:54:00:e2:00:01';
      const r = cli('attach-tap', '--domain', 'hp2', '--tap', 't-hp2-a', '--bridge', 'br0', '--mac', mac, '--print-diff');
      ok(r, 'attach-tap --domain hp2');
      assert.match(r.stdout, /^\+.*<target dev=.t-hp2-a. managed=.no.\/>/m, r.stdout);
      assert.ok(!devices(L).includes('t-hp2-a'), 'without --live or --provision nothing is made on the host');
      const s = await L.virsh('start', 'hp2');
      assert.equal(s.code, 0, `${s.stderr}\n${L.logs('hp2')}`);
      assert.equal(linksIn(ns).find((l) => l.ifname === 't-hp2-a')?.master, 'br0');
      const m = await serialSays(L, 'hp2', g2.serial, new RegExp(`HOTPLUG-PING-(OK|FAIL) (eth\\d+) ${mac}`), 90_000);
      assert.equal(m[1], 'OK', m[0]);
      assert.equal((await L.virsh('destroy', 'hp2')).code, 0);
      assert.ok(!devices(L).includes('t-hp2-a'), 'the hook removed the tap at release');
    });

    await t.test('4 by-name attaches of one domain at once (4 processes): none is lost', async () => {
      const before = await xmlOf('hp2', true);
      const runs = [0, 1, 2, 3].map((i) => startCli(['attach-tap', '--domain', 'hp2', '--tap', `t-hp2-c${i}`, '--bridge', 'br0', '-c', L.uri]));
      for (const [i, r] of (await Promise.all(runs.map((x) => x.done))).entries()) ok(r, `attach ${i}`);
      const after = await xmlOf('hp2', true);
      for (const i of [0, 1, 2, 3]) {
        assert.match(after, new RegExp(`<target dev=.t-hp2-c${i}. managed=.no./>`), `attach ${i} is defined`);
        assert.match(after, new RegExp(`<vnet:tap dev=.t-hp2-c${i}.`), `attach ${i} is in the record`);
      }
      for (const i of [0, 1, 2, 3]) ok(cli('detach', '--domain', 'hp2', '--target', `t-hp2-c${i}`), `detach ${i}`);
      assert.equal(await xmlOf('hp2', true), before, 'four attaches and four detaches leave the definition as it was');
    });

    await t.test('kill -9 of attach --live and detach --live at seeded moments: the same command again finishes the job', async () => {
      const seed = Number(process.env.VNET_KILL_SEED ?? 20261130);
      const rand = seededRandom(seed);
      const mac = '52:54:00:e1:00:09';
      const attach = ['attach-tap', '--domain', 'hp1', '--live', '--netns', ns, '--tap', 't-hp1-k', '--bridge', 'br0', '--mac', mac, '-c', L.uri];
      const detach = ['detach', '--domain', 'hp1', '--live', '--netns', ns, '--target', 't-hp1-k', '-c', L.uri];
      // How long each takes here, to spread the kills over it.
      let t1 = performance.now();
      ok(runCli(attach), 'attach (timing)');
      const attachMs = performance.now() - t1;
      t1 = performance.now();
      ok(runCli(detach), 'detach (timing)');
      const detachMs = performance.now() - t1;
      const killed = async (args: string[], ms: number): Promise<string> => {
        const run = startCli(args);
        const at = rand() * ms;
        await sleep(at);
        try {
          process.kill(run.pid, 'SIGKILL');
        } catch {
          // it had ended
        }
        const r = await run.done;
        return `${args[0]} killed ${at.toFixed(0)} ms in (exit ${r.code})`;
      };
      const gone = (r: CliResult): boolean => r.code === 3 && /no interface with target dev 't-hp1-k'/.test(r.stderr);
      for (let trial = 0; trial < 3; trial++) {
        const why = `seed ${seed}, trial ${trial}`;
        const w1 = await killed(attach, attachMs);
        ok(runCli(attach), `attach again after ${w1} (${why})`);
        const tap = linksIn(ns).find((l) => l.ifname === 't-hp1-k');
        assert.equal(tap?.master, 'br0', `${w1}: the tap is on the bridge (${why})`);
        assert.match(tap?.ifalias ?? '', /^vnet-virt:/, `${w1}: the tap carries the marker`);
        assert.match(await xmlOf('hp1', false), new RegExp(mac), `${w1}: the guest has the interface`);
        assert.match(await xmlOf('hp1', true), /<vnet:tap dev=.t-hp1-k./, `${w1}: the persistent definition has it`);
        const w2 = await killed(detach, detachMs);
        const again = runCli(detach);
        assert.ok(again.code === 0 || gone(again), `detach again after ${w2} (${why}): exit ${again.code}: ${again.stderr}`);
        assert.ok(!devices(L).includes('t-hp1-k'), `${w2}: the tap is deleted (${why})`);
        assert.doesNotMatch(await xmlOf('hp1', false), new RegExp(`${mac}|t-hp1-k`), `${w2}: out of the live definition and its record`);
        assert.doesNotMatch(await xmlOf('hp1', true), /t-hp1-k/, `${w2}: out of the persistent definition`);
        t.diagnostic(`${why}: ${w1}; ${w2}`);
      }
    });

    await t.test('lint --all-domains names each finding URI/NAME', async () => {
      const r = cli('lint', '--all-domains', '--no-schema', '--format', 'json');
      assert.ok(r.code === 0 || r.code === 3, r.stderr);
      assert.equal(JSON.parse(r.stdout).files, 3);
      assert.match(r.stderr, new RegExp(`${L.uri.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/hp1: read the persistent definition`));
    });
  } finally {
    await lv?.stop();
    work.cleanup();
    hooks.cleanup();
  }
});
