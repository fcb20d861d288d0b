import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ifnameProblem, macProblem, normalizeMac } from '../../src/domain/names.js';
import { deriveIfname, deriveMac } from '../../src/domain/derive.js';

test('macProblem accepts unicast MACs in either case, locally administered ones too', () => {
  for (const mac of ['52:54:00:12:34:56', '52:54:00:AB:cd:EF', '02:00:00:00:00:01', 'fe:ff:ff:ff:ff:ff', '00:00:00:00:00:01'])
    assert.equal(macProblem(mac), undefined, mac);
});

test('macProblem rejects bad syntax, multicast, broadcast and all zero', () => {
  const cases: [string, RegExp][] = [
    ['52:54:00:12:34', /six colon-separated hex octets/],
    ['52:54:00:12:34:56:78', /six/],
    ['52-54-00-12-34-56', /six/],
    ['5254.0012.3456', /six/],
    ['52:54:00:12:34:5g', /six/],
    ['52:54:00:12:34:5', /six/],
    [' 52:54:00:12:34:56', /six/],
    ['', /six/],
    ['01:00:5e:00:00:01', /multicast/],
    ['33:33:00:00:00:01', /multicast/],
    ['ff:ff:ff:ff:ff:ff', /multicast/],
    ['00:00:00:00:00:00', /all zero/],
  ];
  for (const [mac, why] of cases) assert.match(macProblem(mac) ?? 'accepted', why, JSON.stringify(mac));
});

test('normalizeMac lowercases', () => {
  assert.equal(normalizeMac('52:54:00:AB:CD:EF'), '52:54:00:ab:cd:ef');
});

test('ifnameProblem follows the kernel: 1-15 bytes, no / : white space, not . or ..', () => {
  for (const ok of ['tap0', 'a', 'x'.repeat(15), 'vnet-virt_1.2', 'tap-éé']) assert.equal(ifnameProblem(ok), undefined, ok);
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['x'.repeat(16), /16 bytes/],
    ['x'.repeat(14) + 'é', /16 bytes/], // 15 characters, 16 bytes
    ['.', /not allowed/],
    ['..', /not allowed/],
    ['a/b', /'\/'/],
    ['a:b', /':'/],
    ['a b', /white space/],
    ['a\tb', /white space/],
    ['a\nb', /white space/],
    ['tap%d', /%/],
  ];
  for (const [name, why] of cases) assert.match(ifnameProblem(name) ?? 'accepted', why, JSON.stringify(name));
});

test('deriveMac is deterministic, in 52:54:00, and differs by identity and position', () => {
  const a = deriveMac('c7a5fdbd-edaf-9455-926a-d65c16db1809', 0);
  assert.equal(a, deriveMac('c7a5fdbd-edaf-9455-926a-d65c16db1809', 0));
  assert.match(a, /^52:54:00(:[0-9a-f]{2}){3}$/);
  assert.equal(macProblem(a), undefined);
  assert.notEqual(a, deriveMac('c7a5fdbd-edaf-9455-926a-d65c16db1809', 1));
  assert.notEqual(a, deriveMac('name:web1', 0));
  // Pinned: a change here changes the MAC of every interface users already derived.
  assert.equal(deriveMac('name:web1', 0), '52:54:00:e1:ca:eb');
  assert.equal(deriveMac('c7a5fdbd-edaf-9455-926a-d65c16db1809', 1), '52:54:00:e7:6b:d5');
  const seen = new Set(Array.from({ length: 200 }, (_, i) => deriveMac('name:web1', i)));
  assert.equal(seen.size, 200);
});

test('deriveIfname keeps short clean names readable', () => {
  assert.equal(deriveIfname('t-', 'web1', 0), 't-web1-0');
  assert.equal(deriveIfname('t-', 'web_1-a', 3), 't-web_1-a-3');
});

test('deriveIfname fits 15 bytes and stays a valid, deterministic name for any domain name', () => {
  const names = ['web1', 'x'.repeat(64), 'golden.long-domain-name.example', 'ünïcödé-dömäin', 'a b/c:d%e', '', '..', '日本語のドメイン'];
  for (let i = 0; i < 200; i++) names.push(`dom-${'ab'.repeat(i % 13)}-${i}`);
  for (const name of names)
    for (const index of [0, 1, 9, 10, 99, 12345]) {
      const n = deriveIfname('t-', name, index);
      assert.ok(Buffer.byteLength(n) <= 15, `${n} from ${name}`);
      assert.equal(ifnameProblem(n), undefined, `${n} from ${JSON.stringify(name)}`);
      assert.equal(n, deriveIfname('t-', name, index));
      assert.ok(n.endsWith(`-${index}`));
    }
});

test('deriveIfname tells apart long names that share their beginning', () => {
  const a = deriveIfname('t-', 'production-database-01', 0);
  const b = deriveIfname('t-', 'production-database-02', 0);
  assert.notEqual(a, b);
  assert.notEqual(deriveIfname('t-', 'web.1', 0), deriveIfname('t-', 'web1', 0), 'a cleaned name gets a hash');
  assert.equal(deriveIfname('t-', 'golden.long-domain-name.example', 1), 't-goldenl7565-1', 'pinned');
});
