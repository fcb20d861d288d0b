import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainDoc } from '../../src/domain/doc.js';
import { intentOf } from '../../src/intent/intent.js';
import { isOurs } from '../../src/host/marker.js';
import { ownerOf } from '../../src/intent/owner.js';
import { VnetError } from '../../src/errors.js';
import { fixturesDir } from '../helpers.js';

const load = (name: string): DomainDoc => DomainDoc.parse(readFileSync(join(fixturesDir, 'host', name), 'utf8'), name);

test('intent: record entries, with the interface <mac> and <driver queues>', () => {
  const intent = intentOf(load('web1.xml'));
  assert.equal(intent.domain.label, 'web1');
  assert.equal(intent.domain.owner.marker, 'vnet-virt:c7a5fdbd-edaf-9455-926a-d65c16db1809');
  assert.deepEqual(
    intent.items.map(({ iface, ...rest }) => ({ ...rest, xpath: iface.xpath })),
    [
      { kind: 'tap', dev: 't0', mac: '52:54:00:f2:3a:10', bridge: 'br0', queues: 2, mtu: undefined, recorded: true, xpath: '/domain/devices/interface[1]' },
      {
        kind: 'macvtap',
        dev: 'mvt0',
        mac: '52:54:00:5e:11:02',
        lower: 'veth1',
        mode: 'vepa',
        vethPeer: 'veth0',
        bridge: 'br0',
        xpath: '/domain/devices/interface[2]',
      },
    ],
  );
});

test('intent: an unmanaged target without a record entry gives a tap with no bridge; a managed one gives nothing', () => {
  const intent = intentOf(load('db1.xml'));
  assert.deepEqual(
    intent.items.map((i) => [i.kind, i.dev, i.kind === 'tap' ? [i.bridge, i.queues, i.mtu] : []]),
    [
      ['tap', 't-db1', [undefined, 1, undefined]],
      ['tap', 't-db1-b', [undefined, 4, 9000]],
    ],
  );
  assert.equal(intent.domain.owner.marker, 'vnet-virt:name:db1');
});

test('intent: a hand-edited macvtap <mac> that differs from the record is refused as lint refuses it (exit 3, macvtap-mac-mismatch)', () => {
  const text = readFileSync(join(fixturesDir, 'host', 'web1.xml'), 'utf8').replace("<mac address='52:54:00:5e:11:02'/>", "<mac address='52:54:00:5E:11:99'/>");
  assert.throws(
    () => intentOf(DomainDoc.parse(text, 'x.xml')),
    (e: unknown) =>
      e instanceof VnetError &&
      e.exitCode === 3 &&
      e.code === 'E_MAC_MISMATCH' &&
      e.message === "web1: MAC 52:54:00:5e:11:99 of the guest differs from the recorded macvtap MAC 52:54:00:5e:11:02 of target 'mvt0' [macvtap-mac-mismatch] (interface mvt0)" &&
      /set <mac address="52:54:00:5e:11:02"\/> back/.test(e.hint ?? ''),
  );
  // Only the case differs: the same MAC.
  const same = readFileSync(join(fixturesDir, 'host', 'web1.xml'), 'utf8').replace("<mac address='52:54:00:5e:11:02'/>", "<mac address='52:54:00:5E:11:02'/>");
  assert.equal(intentOf(DomainDoc.parse(same, 'x.xml')).items[1]!.mac, '52:54:00:5e:11:02');
});

test('intent: a bad device name in the record is exit 3 naming the domain and interface', () => {
  const text = readFileSync(join(fixturesDir, 'host', 'web1.xml'), 'utf8').replace("lower='veth1'", "lower='a/b'");
  assert.throws(
    () => intentOf(DomainDoc.parse(text, 'x.xml')),
    (e: unknown) => e instanceof VnetError && e.exitCode === 3 && e.code === 'E_IFNAME_INVALID' && /web1: lower device 'a\/b'.*\(interface mvt0\)/.test(e.message),
  );
});

test('ownership: the same domain with and without <uuid> accepts the name marker both ways', () => {
  const withUuid = intentOf(load('db1-uuid.xml')).domain.owner;
  const withoutUuid = intentOf(load('db1.xml')).domain.owner;
  assert.equal(withUuid.marker, 'vnet-virt:0b5f2f6e-8a4c-4d55-9d0e-5b8a3c1d2e4f');
  assert.ok(isOurs(withoutUuid.marker, withUuid), 'the hook (with uuid) owns what the CLI (file without uuid) created');
  assert.ok(isOurs(withUuid.marker, withUuid));
  assert.ok(!isOurs('vnet-virt:name:db2', withUuid));
  assert.ok(!isOurs(undefined, withUuid));
});

test('ownership: a marker over 255 bytes is refused', () => {
  assert.throws(() => ownerOf({ name: 'x'.repeat(250), uuid: undefined, file: 'f.xml' }), (e: unknown) => e instanceof VnetError && e.code === 'E_NAME_TOO_LONG');
});

test('intent: a queue count or MTU that is not a whole number in range is exit 3 before any ip command sees it', () => {
  const cases: [string, (s: string) => string, RegExp][] = [
    ['db1.xml', (s) => s.replace("size='9000'", "size='1.5'"), /db1: <mtu size> '1\.5' is not a whole number from 68 to 65535 \(interface t-db1-b\)/],
    ['db1.xml', (s) => s.replace("queues='4'", "queues='0'"), /db1: <driver queues> '0' is not a whole number from 1 to 256 \(interface t-db1-b\)/],
    ['web1.xml', (s) => s.replace(/queues='2'/g, "queues='two'").replace(/<driver[^>]*>/, ''), /web1: <driver queues> 'NaN' is not a whole number .*\(interface t0\)/],
    ['web1.xml', (s) => s.replace("bridge='br0' queues='2'", "bridge='br0' queues='2' mtu='1e9'"), /web1: <mtu size> '1000000000' .*\(interface t0\)/],
  ];
  for (const [file, edit, message] of cases) {
    const text = edit(readFileSync(join(fixturesDir, 'host', file), 'utf8'));
    assert.throws(
      () => intentOf(DomainDoc.parse(text, file)),
      (e: unknown) => e instanceof VnetError && e.exitCode === 3 && e.code === 'E_VALUE_INVALID' && e.file === file && message.test(e.message),
      message.source,
    );
  }
});
