// Properties of attach and detach over every domain input of the golden
// fixtures: lines are only added, attach+detach gives back the bytes, a named
// attach is idempotent; and what --in-place does to the file on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainDoc } from '../../src/domain/doc.js';
import { directSpec, macvtapSpec, planAttach, tapSpec } from '../../src/commands/attach.js';
import type { AttachResult, SpecBuilder } from '../../src/commands/attach.js';
import { planDetach } from '../../src/commands/detach.js';
import { fixturesDir, isRoot, runCli, tempDir } from '../helpers.js';
import { libvirtProblems, requireLibvirtTools } from './attach-libvirt.js';

/** Inputs where a property cannot hold, and why. Each must still be an input here (no stale entries). */
const EXCEPTIONS: Record<string, { linesKept?: string; roundTrip?: string }> = {
  'layout-empty-devices': {
    linesKept: 'an empty <devices/> must become <devices>...</devices>',
  },
  'layout-empty-metadata': {
    linesKept: 'an empty <metadata/> must become <metadata>...</metadata>',
  },
};

function domainInputs(): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  const dir = join(fixturesDir, 'attach');
  for (const name of readdirSync(dir).sort()) {
    const f = join(dir, name, 'input.xml');
    if (!existsSync(f) || existsSync(join(dir, name, 'not-valid-for-libvirt'))) continue;
    const text = readFileSync(f, 'utf8');
    if (seen.has(text)) continue;
    try {
      DomainDoc.parse(text, f);
    } catch {
      continue; // the bad-input cases
    }
    seen.add(text);
    out.set(name, text);
  }
  out.set('quickstart', readFileSync(join(fixturesDir, 'quickstart/web1.xml'), 'utf8'));
  return out;
}

const inputs = domainInputs();
const produced = new Map<string, string>();

type Attach = { name: string; build: SpecBuilder<never>; opts: Record<string, unknown>; detach: (r: AttachResult) => { mac?: string; target?: string } };
// Device names no fixture uses, so each attach adds a new interface.
const ATTACHES: Attach[] = [
  { name: 'tap (derived)', build: tapSpec as SpecBuilder<never>, opts: {}, detach: (r) => ({ mac: r.spec.mac }) },
  { name: 'tap (named)', build: tapSpec as SpecBuilder<never>, opts: { tap: 'ptap0', bridge: 'pbr0', queues: '2', mtu: '1500' }, detach: () => ({ target: 'ptap0' }) },
  {
    name: 'macvtap',
    build: macvtapSpec as SpecBuilder<never>,
    opts: { lower: 'pveth1', macvtap: 'pmvt0', vethPeer: 'pveth0', bridge: 'pbr0', mode: 'bridge' },
    detach: () => ({ target: 'pmvt0' }),
  },
  { name: 'direct', build: directSpec as SpecBuilder<never>, opts: { source: 'peth9', mode: 'passthru', mac: '52:54:00:fe:00:01' }, detach: () => ({ mac: '52:54:00:fe:00:01' }) },
];

function attach(doc: DomainDoc, a: Attach): AttachResult {
  const { spec, given, named } = a.build(a.opts as never)(doc);
  return planAttach(doc, spec, given, named);
}

/** The first line of `before` that is not in `after` in the same order, if any. */
function lostLine(before: string, after: string): string | undefined {
  const have = after.split('\n');
  let j = 0;
  for (const line of before.split('\n')) {
    while (j < have.length && have[j] !== line) j++;
    if (j === have.length) return line;
    j++;
  }
  return undefined;
}

test('the property inputs cover the layouts', () => {
  assert.ok(inputs.size >= 10, `${inputs.size} inputs`);
  for (const name of Object.keys(EXCEPTIONS)) assert.ok(inputs.has(name), `exception for ${name}, which is no input`);
});

for (const [name, text] of inputs) {
  test(`properties: ${name}`, () => {
    const doc = DomainDoc.parse(text, name);
    const exc = EXCEPTIONS[name] ?? {};
    let lineLost = false;
    let roundTripLost = false;
    for (const a of ATTACHES) {
      const once = attach(doc, a);
      assert.equal(once.action, 'added', a.name);
      assert.notEqual(once.after.text, text);
      produced.set(`${name} + ${a.name}`, once.after.text);

      const lost = lostLine(text, once.after.text);
      if (!exc.linesKept) assert.equal(lost, undefined, `${a.name}: a line of the input was changed or removed`);
      lineLost ||= lost !== undefined;

      const back = planDetach(once.after, a.detach(once)).after.text;
      if (!exc.roundTrip) assert.equal(back, text, `${a.name}: attach + detach is not the original`);
      roundTripLost ||= back !== text;

      if (a.name !== 'tap (derived)') {
        const twice = attach(once.after, a);
        assert.equal(twice.action, 'unchanged', `${a.name}: a named attach run twice`);
        assert.equal(twice.after.text, once.after.text);
      }
    }
    // An exception must still be needed by some attach: otherwise it hides nothing and goes.
    if (exc.linesKept) assert.ok(lineLost, `${name}: stale exception: ${exc.linesKept}`);
    if (exc.roundTrip) assert.ok(roundTripLost, `${name}: stale exception: ${exc.roundTrip}`);
  });

  test(`properties: ${name}: all four attached, detached in either order`, () => {
    let doc = DomainDoc.parse(text, name);
    const results: AttachResult[] = [];
    for (const a of ATTACHES) {
      const r = attach(doc, a);
      results.push(r);
      doc = r.after;
    }
    produced.set(`${name} + all`, doc.text);
    const all = doc;
    if (!EXCEPTIONS[name]?.linesKept) assert.equal(lostLine(text, all.text), undefined);
    if (EXCEPTIONS[name]?.roundTrip) return;
    for (const order of [ATTACHES.map((_, i) => i), ATTACHES.map((_, i) => ATTACHES.length - 1 - i)]) {
      let d = all;
      for (const i of order) d = planDetach(d, ATTACHES[i]!.detach(results[i]!)).after;
      assert.equal(d.text, text, `detach order ${order.join(',')}`);
    }
  });
}

test('derived names and MACs depend only on the domain and the position', () => {
  const text = inputs.get('quickstart')!;
  const a = attach(DomainDoc.parse(text, 'a'), ATTACHES[0]!);
  const b = attach(DomainDoc.parse(text, 'b'), ATTACHES[0]!);
  assert.equal(a.after.text, b.after.text);
  assert.ok(Buffer.byteLength(a.spec.dev) <= 15);
  assert.match(a.spec.mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
  const other = attach(DomainDoc.parse(text.replace('c7a5fdbd', 'c7a5fdbe'), 'c'), ATTACHES[0]!);
  assert.notEqual(other.spec.mac, a.spec.mac, 'another UUID gives another MAC');
});

test('--in-place replaces the file by a rename, keeping mode, owner and symbolic links', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'dom.xml');
    writeFileSync(file, inputs.get('quickstart')!);
    chmodSync(file, 0o664);
    if (isRoot()) chownSync(file, 65534, 65534);
    const inode = statSync(file).ino;
    const r = runCli(['attach-tap', file, '--tap', 'tap0', '--in-place']);
    assert.equal(r.code, 0, r.stderr);
    const st = statSync(file);
    assert.notEqual(st.ino, inode, 'a new file was renamed into place');
    assert.equal(st.mode & 0o7777, 0o664, 'mode kept, whatever the umask');
    if (isRoot()) assert.deepEqual([st.uid, st.gid], [65534, 65534], 'owner kept');
    else t.diagnostic('not root: owner not checked');
    assert.match(readFileSync(file, 'utf8'), /<target dev='tap0' managed='no'\/>/);
    assert.deepEqual(readdirSync(dir), ['dom.xml'], 'no temporary file left');

    // Running it again changes nothing and does not even rewrite the file.
    const again = runCli(['attach-tap', file, '--tap', 'tap0', '--in-place']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(statSync(file).ino, st.ino);

    // A link is followed: the link stays a link, its target gets the change.
    const link = join(dir, 'link.xml');
    symlinkSync('dom.xml', link);
    const viaLink = runCli(['attach-tap', link, '--tap', 'tap1', '--in-place']);
    assert.equal(viaLink.code, 0, viaLink.stderr);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), 'dom.xml');
    assert.match(readFileSync(file, 'utf8'), /<target dev='tap1' managed='no'\/>/);
  } finally {
    cleanup();
  }
});

test('a failing --in-place run leaves the file exactly as it was', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'dom.xml');
    const tapped = attach(DomainDoc.parse(inputs.get('quickstart')!, file), ATTACHES[1]!);
    writeFileSync(file, tapped.after.text);
    const bytes = readFileSync(file);
    const st = statSync(file);
    for (const args of [
      ['attach-tap', file, '--in-place', '--queues', '0'],
      ['attach-direct', file, '--in-place', '--source', 'eth0', '--mode', 'nope'],
      ['attach-tap', file, '--in-place', '--tap', 'ptap0', '--bridge', 'other0'],
      ['attach-tap', file, '--in-place', '--mac', tapped.spec.mac],
      ['detach', file, '--in-place', '--mac', '52:54:00:99:99:99'],
    ]) {
      const r = runCli(args);
      assert.ok(r.code === 2 || r.code === 3, `${args.join(' ')}: exit ${r.code}`);
      assert.deepEqual(readFileSync(file), bytes);
      assert.equal(statSync(file).ino, st.ino, 'not even rewritten');
      assert.equal(statSync(file).mtimeMs, st.mtimeMs);
    }
    assert.deepEqual(readdirSync(dir), ['dom.xml'], 'no temporary file left');
  } finally {
    cleanup();
  }
});

test('every XML the properties produced is valid for libvirt', (t) => {
  if (!requireLibvirtTools(t)) return;
  assert.ok(produced.size > 40, `${produced.size} outputs`);
  const { dir, cleanup } = tempDir('vnet-props-libvirt-');
  try {
    assert.deepEqual([...libvirtProblems(dir, produced)], []);
  } finally {
    cleanup();
  }
});
