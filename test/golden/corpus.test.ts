// The shared corpus of libvirt and virt-manager domain XMLs (read in place):
// every well-formed file parses and serialises back to the same bytes, every
// file libvirt's schema accepts still passes it after attach-tap (and after
// attach-macvtap and attach-direct), and attach + detach gives back the bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DomainDoc } from '../../src/domain/doc.js';
import { parseXml, serializeTree } from '../../src/domain/xml.js';
import { VnetError } from '../../src/errors.js';
import { directSpec, macvtapSpec, planAttach, tapSpec } from '../../src/commands/attach.js';
import type { SpecBuilder } from '../../src/commands/attach.js';
import { planDetach } from '../../src/commands/detach.js';
import { corpusDir, requireCorpus, tempDir } from '../helpers.js';
import { libvirtProblems, requireLibvirtTools } from './attach-libvirt.js';

interface ManifestEntry {
  file: string;
  root: string | null;
  wellFormed: boolean;
  virtXmlValidate: boolean | null;
  testDriverDefine: boolean | null;
}

/**
 * Files for which a check is knowingly not made, with the reason. Each must
 * still be needed: a listed file that passes fails the test.
 */
const EXCEPTIONS: Record<string, { define?: string; roundTrip?: string }> = {};

function load(): { manifest: ManifestEntry[]; text: (f: string) => string } {
  const manifest = JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8')) as ManifestEntry[];
  const cache = new Map<string, string>();
  const text = (f: string): string => {
    let t = cache.get(f);
    if (t === undefined) cache.set(f, (t = readFileSync(join(corpusDir, f), 'utf8')));
    return t;
  };
  return { manifest, text };
}

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.xml') ? [relative(corpusDir, p)] : [];
  });

const ATTACHES: { name: string; build: SpecBuilder<never>; opts: Record<string, unknown>; detach: { target?: string; mac?: string } }[] = [
  { name: 'attach-tap', build: tapSpec as SpecBuilder<never>, opts: { tap: 'vvtap0', bridge: 'vvbr0' }, detach: { target: 'vvtap0' } },
  {
    name: 'attach-macvtap',
    build: macvtapSpec as SpecBuilder<never>,
    opts: { lower: 'vvveth1', macvtap: 'vvmvt0', vethPeer: 'vvveth0', bridge: 'vvbr0' },
    detach: { target: 'vvmvt0' },
  },
  { name: 'attach-direct', build: directSpec as SpecBuilder<never>, opts: { source: 'vveth9', mac: '52:54:00:fe:ed:01', mode: 'passthru' }, detach: { mac: '52:54:00:fe:ed:01' } },
];

test('corpus: the manifest lists every .xml file', (t) => {
  if (!requireCorpus(t)) return;
  const { manifest } = load();
  assert.deepEqual(manifest.map((e) => e.file).sort(), walk(corpusDir).sort());
  for (const f of Object.keys(EXCEPTIONS)) assert.ok(manifest.some((e) => e.file === f), `exception for ${f}, which is not in the corpus`);
});

test('corpus: well-formed files serialise back to the same bytes; the others are rejected', (t) => {
  if (!requireCorpus(t)) return;
  const { manifest, text } = load();
  let checked = 0;
  for (const e of manifest) {
    const xml = text(e.file);
    if (!e.wellFormed) {
      assert.throws(
        () => DomainDoc.parse(xml, e.file),
        (err: unknown) => err instanceof VnetError && err.code === 'E_XML_SYNTAX' && err.exitCode === 3,
        `${e.file} is not well-formed and must be rejected`,
      );
      continue;
    }
    const tree = parseXml(xml);
    assert.equal(tree.root.name, e.root, e.file);
    assert.equal(serializeTree(tree), xml, `${e.file}: the tree's offsets do not cover the file`);
    if (e.root === 'domain') assert.equal(DomainDoc.parse(xml, e.file).text, xml, e.file);
    checked++;
  }
  assert.ok(checked > 300, `only ${checked} well-formed files`);
});

test('corpus: attach keeps libvirt-valid files valid, and attach + detach gives back the bytes', (t) => {
  if (!requireCorpus(t) || !requireLibvirtTools(t)) return;
  const { manifest, text } = load();
  const valid = manifest.filter((e) => e.wellFormed && e.root === 'domain' && e.virtXmlValidate === true);
  assert.ok(valid.length > 250, `only ${valid.length} valid files`);
  const outputs = new Map<string, string>();
  const definable = new Set<string>();
  for (const e of valid) {
    const xml = text(e.file);
    let doc = DomainDoc.parse(xml, e.file);
    for (const a of ATTACHES) {
      const { spec, given, named } = a.build(a.opts as never)(DomainDoc.parse(xml, e.file));
      const one = planAttach(DomainDoc.parse(xml, e.file), spec, given, named);
      assert.equal(one.action, 'added', `${e.file}: ${a.name}`);
      const back = planDetach(one.after, a.detach).after.text;
      if (EXCEPTIONS[e.file]?.roundTrip) assert.notEqual(back, xml, `stale exception for ${e.file}: ${EXCEPTIONS[e.file]!.roundTrip}`);
      else assert.equal(back, xml, `${e.file}: ${a.name} + detach is not the original`);
      if (a.name === 'attach-tap') outputs.set(`${e.file} + attach-tap`, one.after.text);
      const b = a.build(a.opts as never)(doc);
      doc = planAttach(doc, b.spec, b.given, b.named).after;
    }
    outputs.set(`${e.file} + all three`, doc.text);
    if (e.testDriverDefine && !EXCEPTIONS[e.file]?.define) {
      definable.add(`${e.file} + attach-tap`);
      definable.add(`${e.file} + all three`);
    }
  }
  assert.ok(definable.size >= 2 * 250, `only ${definable.size / 2} files to define`);
  const { dir, cleanup } = tempDir('vnet-corpus-');
  try {
    const problems = libvirtProblems(dir, outputs);
    const real = [...problems].filter(([name, why]) => !(why.includes('virsh define') && !definable.has(name)));
    assert.deepEqual(real, [], 'outputs libvirt rejects');
    for (const [f, ex] of Object.entries(EXCEPTIONS))
      if (ex.define) assert.ok(problems.has(`${f} + attach-tap`), `stale exception for ${f}: ${ex.define}`);
  } finally {
    cleanup();
  }
});
