// Domains by name against a stand-in virsh: what is read, what is defined
// (and when nothing is), hot-plug and its undo, and the one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VnetError } from '../../src/errors.js';
import { runAttachByName, runDetachByName } from '../../src/commands/by-name.js';
import type { ByNameOptions, ProvisionSeam } from '../../src/commands/by-name.js';
import { directSpec, tapSpec } from '../../src/commands/attach.js';
import type { DirectOptions, TapOptions } from '../../src/commands/attach.js';
import { checkSource } from '../../src/commands/domain-source.js';
import { DomainDoc } from '../../src/domain/doc.js';
import { recordForMetadata } from '../../src/libvirt/metadata.js';
import { classify, defaultUri, virshMessage } from '../../src/libvirt/virsh.js';
import { fixturesDir, runCli } from '../helpers.js';
import { FAKE_URI, FakeVirsh } from './libvirt-fake.js';

const UUID = '11111111-2222-3333-4444-555555555555';
const XML = `<domain type='qemu'>
  <name>web1</name>
  <uuid>${UUID}</uuid>
  <memory unit='KiB'>262144</memory>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
  </os>
  <devices>
    <serial type='pty'/>
  </devices>
</domain>
`;

function setup(state: 'running' | 'shut off' = 'shut off'): FakeVirsh {
  const v = new FakeVirsh();
  v.add({ name: 'web1', uuid: UUID, state, persistent: XML, live: state === 'running' ? XML : undefined });
  return v;
}

async function attach(v: FakeVirsh, opts: TapOptions & ByNameOptions): Promise<{ out: string; log: string[] }> {
  let out = '';
  const log: string[] = [];
  await runAttachByName('attach-tap', { domain: 'web1', ...opts }, tapSpec, (s) => (out += s), { conn: v.virsh(), log: (l) => log.push(l) });
  return { out, log };
}

const sub = (v: FakeVirsh): string[] => v.calls.map((c) => c[4]!);

async function rejects(p: Promise<unknown>, code: string, exit: number, re?: RegExp): Promise<VnetError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VnetError, String(e));
    assert.equal(e.code, code, e.oneLine());
    assert.equal(e.exitCode, exit, e.oneLine());
    if (re) assert.match(e.oneLine(), re);
    assert.doesNotMatch(e.oneLine(), /\n/);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('the URI: -c, else LIBVIRT_DEFAULT_URI, else qemu:///system, as virsh does', () => {
  assert.equal(defaultUri({}), 'qemu:///system');
  assert.equal(defaultUri({ LIBVIRT_DEFAULT_URI: '' }), 'qemu:///system');
  assert.equal(defaultUri({ LIBVIRT_DEFAULT_URI: 'qemu:///session' }), 'qemu:///session');
});

test("virsh's messages are kept verbatim, on one line, and classified", () => {
  const r = (stderr: string, code = 1) => ({ argv: [], code, stdout: '', stderr });
  assert.equal(virshMessage('error: Failed to define domain from /tmp/x\nerror: XML error: bad thing\n'), 'Failed to define domain from /tmp/x; XML error: bad thing');
  assert.equal(classify(r("error: failed to get domain 'x'\n")), 'unknown-domain');
  assert.equal(classify(r('error: failed to connect to the hypervisor\n')), 'unreachable');
  assert.equal(classify(r('error: Failed to attach device\nerror: internal error: No more available PCI slots\n')), 'no-pci-slot');
  assert.equal(classify(r('spawn virsh ENOENT', 127)), 'missing');
});

test('by name: reads dumpxml --inactive, defines the change, with the record; --print-diff shows it', async () => {
  const v = setup();
  const { out } = await attach(v, { tap: 't-web1-0', bridge: 'br0', mac: '52:54:00:00:00:01', printDiff: true });
  // The second read, just before the define, makes sure nobody defined it in between.
  assert.deepEqual(sub(v), ['dominfo', 'dumpxml', 'dumpxml', 'define']);
  assert.ok(v.calls[1]!.includes('--inactive') && v.calls[2]!.includes('--inactive'));
  const d = v.domains[0]!;
  assert.match(d.persistent!, /<target dev='t-web1-0' managed='no'\/>/);
  assert.match(d.persistent!, /<vnet:tap dev='t-web1-0' mac='52:54:00:00:00:01' bridge='br0'\/>/);
  assert.match(out, /^--- a\/test:\/\/\/fake\/web1\n\+\+\+ b\/test:\/\/\/fake\/web1\n/);
  assert.match(out, /^\+ {6}<target dev='t-web1-0' managed='no'\/>$/m);
  // Every byte libvirt wrote is kept: the change is a splice.
  assert.equal(d.persistent!.replace(/\n *<metadata>[\s\S]*<\/metadata>/, '').replace(/\n *<interface[\s\S]*<\/interface>/, ''), XML);
});

test('an attach that changes nothing defines nothing', async () => {
  const v = setup();
  await attach(v, { tap: 't-web1-0', bridge: 'br0', mac: '52:54:00:00:00:01' });
  v.calls.length = 0;
  const { out } = await attach(v, { tap: 't-web1-0', bridge: 'br0', mac: '52:54:00:00:00:01', json: true });
  assert.deepEqual(sub(v), ['dominfo', 'dumpxml']);
  const j = JSON.parse(out) as { action: string; libvirt: { defined: boolean } };
  assert.equal(j.action, 'unchanged');
  assert.equal(j.libvirt.defined, false);
});

test('--dry-run shows the change and calls nothing that writes', async () => {
  const v = setup('running');
  const { out } = await attach(v, { tap: 't-web1-0', bridge: 'br0', live: true, dryRun: true, printDiff: true });
  assert.match(out, /^\+.*t-web1-0/m);
  assert.deepEqual(sub(v), ['dominfo', 'dumpxml', 'dumpxml']);
  assert.equal(v.domains[0]!.persistent, XML);
});

test('bad input, one line each, nothing defined: unknown domain, unreachable URI, refused define, --live on a stopped domain', async () => {
  let v = setup();
  await rejects(attach(v, { domain: 'nope', bridge: 'br0' }), 'E_DOMAIN_UNKNOWN', 3, /no domain 'nope' at test:\/\/\/fake/);
  v = setup();
  v.unreachable = true;
  await rejects(attach(v, { bridge: 'br0' }), 'E_LIBVIRT_UNREACHABLE', 1, /^--connect: cannot reach libvirt at test:\/\/\/fake: failed to connect to the hypervisor; Failed to connect socket/);
  v = setup();
  v.fail.set('define', "error: Failed to define domain from /tmp/x.xml\nerror: unsupported configuration: the daemon's own words\n");
  await rejects(attach(v, { bridge: 'br0' }), 'E_DEFINE_REFUSED', 3, /^test:\/\/\/fake\/web1: libvirt refused the definition: Failed to define domain from \/tmp\/x\.xml; unsupported configuration: the daemon's own words/);
  assert.equal(v.domains[0]!.persistent, XML);
  v = setup();
  await rejects(attach(v, { bridge: 'br0', live: true }), 'E_NOT_RUNNING', 3, /web1 is shut off: --live needs a running guest; .*virsh -c test:\/\/\/fake start web1/);
  assert.deepEqual(sub(v), ['dominfo']);
});

test('attach-direct --live: defined, hot-plugged, live record untouched (direct has none)', async () => {
  const v = setup('running');
  let out = '';
  await runAttachByName('attach-direct', { domain: 'web1', source: 'eth9', mac: '52:54:00:00:00:09', live: true, json: true }, directSpec, (s) => (out += s), {
    conn: v.virsh(),
    log: () => {},
  });
  assert.deepEqual(sub(v), ['dominfo', 'dumpxml', 'dumpxml', 'dumpxml', 'define', 'attach-device']);
  const j = JSON.parse(out) as { libvirt: { live: string; defined: boolean } };
  assert.deepEqual([j.libvirt.live, j.libvirt.defined], ['hot-plugged', true]);
  assert.match(v.domains[0]!.live!, /<source dev='eth9' mode='vepa'\/>/);
});

test('no free PCI slot: the hot-plug fails, the persistent definition is put back, exit 1, one line', async () => {
  const v = setup('running');
  v.fail.set('attach-device', 'error: Failed to attach device from /tmp/x\nerror: internal error: No more available PCI slots\n');
  const p = runAttachByName('attach-direct', { domain: 'web1', source: 'eth9', live: true } as DirectOptions & ByNameOptions, directSpec, () => {}, {
    conn: v.virsh(),
    log: () => {},
  });
  await rejects(p, 'E_NO_PCI_SLOT', 1, /No more available PCI slots; undone: restore the persistent definition; .*pcie-root-port/);
  assert.deepEqual(sub(v), ['dominfo', 'dumpxml', 'dumpxml', 'dumpxml', 'define', 'attach-device', 'define']);
  assert.equal(v.domains[0]!.persistent, XML);
});

test('detach --live waits for the guest; a guest that keeps the device is a failure and nothing else changes', async () => {
  const v = setup('running');
  const opts = { domain: 'web1', source: 'eth9', mac: '52:54:00:00:00:09', live: true } as DirectOptions & ByNameOptions;
  await runAttachByName('attach-direct', opts, directSpec, () => {}, { conn: v.virsh(), log: () => {} });
  const persistent = v.domains[0]!.persistent;
  v.guestIgnoresEject = true;
  v.calls.length = 0;
  const p = runDetachByName({ domain: 'web1', mac: '52:54:00:00:00:09', live: true }, () => {}, { conn: v.virsh(), log: () => {}, unplugWaitMs: 300 });
  await rejects(p, 'E_UNPLUG_TIMEOUT', 1, /did not release the interface with MAC 52:54:00:00:00:09/);
  assert.ok(!sub(v).includes('define'), 'the persistent definition is not touched');
  assert.equal(v.domains[0]!.persistent, persistent);
  v.guestIgnoresEject = false;
  await runDetachByName({ domain: 'web1', mac: '52:54:00:00:00:09', live: true }, () => {}, { conn: v.virsh(), log: () => {} });
  assert.doesNotMatch(v.domains[0]!.live!, /eth9/);
  assert.doesNotMatch(v.domains[0]!.persistent!, /eth9/);
});

test('detach --live-only keeps the interface in the persistent definition', async () => {
  const v = setup('running');
  const opts = { domain: 'web1', source: 'eth9', mac: '52:54:00:00:00:09', live: true } as DirectOptions & ByNameOptions;
  await runAttachByName('attach-direct', opts, directSpec, () => {}, { conn: v.virsh(), log: () => {} });
  await runDetachByName({ domain: 'web1', mac: '52:54:00:00:00:09', liveOnly: true }, () => {}, { conn: v.virsh(), log: () => {} });
  assert.doesNotMatch(v.domains[0]!.live!, /eth9/);
  assert.match(v.domains[0]!.persistent!, /eth9/);
});

test('N concurrent by-name attaches of one domain: none is lost (one at a time, per domain)', async () => {
  const v = setup();
  const n = 8;
  const logs: string[] = [];
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      runAttachByName('attach-tap', { domain: 'web1', tap: `t-web1-${i}`, bridge: 'br0', mac: `52:54:00:00:01:0${i}` }, tapSpec, () => {}, { conn: v.virsh(), log: (l) => logs.push(l) }),
    ),
  );
  const d = v.domains[0]!.persistent!;
  for (let i = 0; i < n; i++) {
    assert.match(d, new RegExp(`<target dev='t-web1-${i}' managed='no'/>`), `attach ${i} is in the definition`);
    assert.match(d, new RegExp(`<vnet:tap dev='t-web1-${i}' `), `attach ${i} is in the record`);
  }
  assert.equal(sub(v).filter((c) => c === 'define').length, n);
});

test('a define by someone else between the read and the define: exit 3, theirs is kept, nothing defined', async () => {
  const v = setup();
  let reads = 0;
  const theirs = XML.replace('<memory unit=\'KiB\'>262144</memory>', '<memory unit=\'KiB\'>524288</memory>');
  v.before = (cmd) => {
    if (cmd === 'dumpxml' && ++reads === 2) v.domains[0]!.persistent = theirs;
  };
  await rejects(attach(v, { tap: 't-web1-0', bridge: 'br0' }), 'E_CHANGED_WHILE_EDITING', 3, /changed while vnet-virt was editing it.*nothing defined; run the command again/);
  assert.ok(!sub(v).includes('define'));
  assert.equal(v.domains[0]!.persistent, theirs);
});

/** Host devices by name, as a set: what the provision seam made and deleted. */
function fakeHost(): { devices: Set<string>; seam: ProvisionSeam } {
  const devices = new Set<string>();
  return {
    devices,
    seam: {
      up: async (_doc, dev) => {
        if (devices.has(dev)) return false;
        devices.add(dev);
        return true;
      },
      down: async (_doc, dev) => {
        devices.delete(dev);
      },
    },
  };
}

test('a --live run killed between its records and the hot-plug (or between the unplug and the define): attach again completes it, detach removes all', async () => {
  for (const next of ['attach', 'detach'] as const) {
    const v = setup('running');
    const host = fakeHost();
    const opts = { domain: 'web1', tap: 't-web1-0', bridge: 'br0', mac: '52:54:00:00:00:01' };
    // The state such a kill leaves: the interface and its record in the persistent definition, the record in the
    // live one (no interface there), the device made.
    await runAttachByName('attach-tap', opts, tapSpec, () => {}, { conn: v.virsh(), log: () => {} });
    const d = v.domains[0]!;
    d.live = d.live!.replace('</name>', `</name>\n  ${/<metadata>[\s\S]*<\/metadata>/.exec(d.persistent!)![0]}`);
    host.devices.add('t-web1-0');
    v.calls.length = 0;
    if (next === 'attach') {
      await runAttachByName('attach-tap', { ...opts, live: true }, tapSpec, () => {}, { conn: v.virsh(), log: () => {}, provision: host.seam });
      assert.deepEqual(sub(v), ['dominfo', 'dumpxml', 'dumpxml', 'attach-device'], 'only the missing half: the hot-plug');
      assert.match(d.live!, /<target dev='t-web1-0' managed='no'\/>/);
      assert.deepEqual([...host.devices], ['t-web1-0']);
    } else {
      await runDetachByName({ domain: 'web1', target: 't-web1-0', live: true }, () => {}, { conn: v.virsh(), log: () => {}, provision: host.seam });
      assert.doesNotMatch(d.persistent!, /t-web1-0/);
      assert.doesNotMatch(d.live!, /t-web1-0/);
      assert.deepEqual([...host.devices], [], 'the device is deleted');
    }
  }
});

test('the record for virsh metadata --set: no prefix, no xmlns, entries kept', () => {
  const doc = DomainDoc.parse(readFileSync(join(fixturesDir, 'host', 'web1.xml'), 'utf8'), 'web1.xml');
  const rec = recordForMetadata(doc);
  assert.ok(rec);
  assert.match(rec, /^<record( [\w-]+="[^"]*")*><(tap|macvtap) /);
  assert.doesNotMatch(rec, /xmlns|vnet:/);
  assert.equal(recordForMetadata(DomainDoc.parse(XML, 'x')), undefined);
});

test('usage: a file or --domain, not both; by-name options need --domain; -o and --in-place are for files', () => {
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return `${(e as VnetError).code}/${(e as VnetError).exitCode}`;
    }
    return 'ok';
  };
  assert.equal(code(() => checkSource(['a.xml'], { domain: 'web1' })), 'E_USAGE/2');
  assert.equal(code(() => checkSource(['a.xml'], { connect: FAKE_URI })), 'E_USAGE/2');
  assert.equal(code(() => checkSource(['a.xml'], { live: true })), 'E_USAGE/2');
  assert.equal(code(() => checkSource([], {})), 'E_USAGE/2');
  assert.equal(code(() => checkSource([], { domain: 'web1', inPlace: true })), 'E_USAGE/2');
  assert.equal(code(() => checkSource([], { domain: 'web1', live: true, liveOnly: true })), 'E_USAGE/2');
  assert.equal(code(() => checkSource([], { allDomains: true })), 'E_USAGE/2');
  assert.equal(code(() => checkSource([], { allDomains: true }, { all: true })), 'ok');
  assert.equal(code(() => checkSource(['a.xml'], {})), 'ok');
});

test('CLI: by-name options on a file, a file and --domain, or nothing at all are usage errors (exit 2, one line)', () => {
  const file = join(fixturesDir, 'quickstart', 'web1.xml');
  for (const args of [
    ['attach-tap', file, '--domain', 'web1'],
    ['attach-tap', file, '--live'],
    ['attach-tap', file, '--dry-run'],
    ['detach', file, '--mac', '52:54:00:00:00:01', '--netns', 'x'],
    ['attach-tap', '--domain', 'web1', '--in-place'],
    ['lint', file, '-c', 'qemu:///system'],
    ['check', '--all-domains', '--domain', 'web1'],
    ['up', '--all-domains'],
    ['attach-tap'],
  ]) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
