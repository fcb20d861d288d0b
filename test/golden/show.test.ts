// Golden tests of `vnet-virt show`: every topology folder of fixtures/show in
// each format, the SVG checked as XML and as a picture (headless Chromium), and
// the README's opening picture kept in sync with what the tool draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, golden, inCI, repoRoot, requireOrSkip, runCli, tempDir, updateGolden } from '../helpers.js';
import { decodePng, nonBackgroundPixels } from '../png.js';

const casesDir = join(fixturesDir, 'show');
const cases = readdirSync(casesDir).filter((n) => !n.includes('.')).sort();
const FORMATS = { text: 'expected.txt', mermaid: 'expected.mmd', dot: 'expected.dot' } as const;

/** The device names a topology folder's domains name (targets, lower devices, peers, bridges, sources). */
function deviceNames(dir: string): string[] {
  const names = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.xml'))) {
    const xml = readFileSync(join(dir, f), 'utf8');
    for (const m of xml.matchAll(/\b(?:dev|lower|veth-peer|bridge|network)=["']([^"']+)["']/g)) names.add(m[1]!);
  }
  return [...names].sort();
}

test('every topology folder has domains and at least one device or interface', () => {
  assert.ok(cases.length >= 8, `only ${cases.length} topologies`);
  for (const c of cases) assert.ok(readdirSync(join(casesDir, c)).some((n) => n.endsWith('.xml')), `${c} has no domain XML`);
});

for (const c of cases) {
  for (const [format, file] of Object.entries(FORMATS)) {
    test(`show ${c} --format ${format}`, (t) => {
      const r = runCli(['show', join('fixtures/show', c), '--format', format]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      golden(t, join(casesDir, c), file, r.stdout);
      for (const name of deviceNames(join(casesDir, c))) assert.ok(r.stdout.includes(name), `${format} of ${c} does not name ${name}`);
    });
  }
}

test('the text tree has no color in a pipe, and NO_COLOR is respected', () => {
  const r = runCli(['show', 'fixtures/show/shared-bridge']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\x1b\[/);
});

test('show: bad format and --netns without --host are usage errors (exit 2, one line)', () => {
  for (const args of [['--format', 'png'], ['--netns', 'x']]) {
    const r = runCli(['show', 'fixtures/show/tap', ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const bad = runCli(['show', '-'], { input: '<domain><name>x</name><devices><interface type="ethernet">' });
  assert.equal(bad.code, 3, bad.stderr);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});

test('the SVG is well-formed XML (xmllint) and names every device', (t) => {
  if (!requireOrSkip(t, spawnSync('xmllint', ['--version']).status === 0, 'xmllint is not installed (scripts/install-deps.sh)')) return;
  const { dir, cleanup } = tempDir('vnet-show-svg-');
  try {
    for (const c of cases) {
      const out = join(dir, `${c}.svg`);
      const r = runCli(['show', join('fixtures/show', c), '--format', 'svg', '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      // Graphviz writes some characters as character references ('-' as &#45;).
      const svg = readFileSync(out, 'utf8').replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
      assert.match(svg, /<svg[\s>]/);
      const lint = spawnSync('xmllint', ['--noout', '--nonet', out], { encoding: 'utf8' });
      assert.equal(lint.status, 0, `${c}: ${lint.stderr}`);
      for (const name of deviceNames(join(casesDir, c))) assert.ok(svg.includes(`>${name}`) || svg.includes(` ${name}`), `SVG of ${c} does not name ${name}`);
    }
  } finally {
    cleanup();
  }
});

test('the SVG renders to a picture in a real headless browser (Chromium): not blank', (t) => {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!requireOrSkip(t, chromium !== undefined, 'chromium is not installed (scripts/install-deps.sh)')) return;
  const { dir, cleanup } = tempDir('vnet-show-png-');
  try {
    const svg = join(dir, 'shared-bridge.svg');
    assert.equal(runCli(['show', 'fixtures/show/shared-bridge', '--format', 'svg', '-o', svg]).code, 0);
    const png = join(dir, 'shot.png');
    // The flags keep Chromium off the network and out of the machine's profile.
    const r = spawnSync(
      chromium!,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, `--screenshot=${png}`,
        '--window-size=1200,600', `file://${svg}`],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.ok(existsSync(png), `no screenshot: exit ${r.status}\n${r.stderr}`);
    const pixels = decodePng(readFileSync(png));
    assert.equal(pixels.width, 1200);
    const drawn = nonBackgroundPixels(pixels);
    // Boxes, fills and text: a blank or failed page has (almost) nothing but the background.
    assert.ok(drawn > pixels.width * pixels.height * 0.02, `only ${drawn} pixels differ from the background`);
  } finally {
    cleanup();
  }
});

const README_BEGIN = '<!-- show:begin (generated by test/golden/show.test.ts from fixtures/quickstart/web1.xml) -->';
const README_END = '<!-- show:end -->';

test("the README's opening picture is what show draws for the quick start", () => {
  const tap = runCli(['attach-tap', 'fixtures/quickstart/web1.xml', '--bridge', 'br0']);
  assert.equal(tap.code, 0, tap.stderr);
  const macvtap = runCli(['attach-macvtap', '-', '--lower', 'veth1', '--macvtap', 'mvt-web1', '--veth-peer', 'veth0', '--bridge', 'br0'], { input: tap.stdout });
  assert.equal(macvtap.code, 0, macvtap.stderr);
  const r = runCli(['show', '-', '--format', 'mermaid'], { input: macvtap.stdout });
  assert.equal(r.code, 0, r.stderr);
  const block = `${README_BEGIN}\n\`\`\`mermaid\n${r.stdout}\`\`\`\n${README_END}`;
  const readmePath = join(repoRoot, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const at = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  assert.ok(at >= 0 && end > at, 'README.md has no show:begin/show:end block');
  const current = readme.slice(at, end + README_END.length);
  if (current !== block && updateGolden && !inCI) {
    writeFileSync(readmePath, readme.slice(0, at) + block + readme.slice(end + README_END.length));
    return;
  }
  assert.equal(current, block, 'the README picture is stale: npm run golden:update rewrites it');
});

test('show by name: --domain and --all-domains read libvirt (the test driver), findings name URI/NAME', (t) => {
  if (!requireOrSkip(t, spawnSync('virsh', ['--version']).status === 0, 'virsh is not installed (scripts/install-deps.sh)')) return;
  const one = runCli(['show', '--domain', 'test', '-c', 'test:///default']);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^guest test {2}test:\/\/\/default\/test$/m);
  assert.match(one.stdout, /tap testnet0 {2}\[made by libvirt\]/);
  assert.match(one.stderr, /read the live definition/);
  const all = runCli(['show', '--all-domains', '-c', 'test:///default', '--format', 'mermaid']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /subgraph n\d+\["guest test"\]/);
  const none = runCli(['show']);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /see vnet-virt show --help/);
});

test('lint --format markdown and --summary: counts, a findings table with rule links, and the picture of the domains', () => {
  const { dir, cleanup } = tempDir('vnet-lint-md-');
  try {
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = runCli(['lint', '--no-schema', 'fixtures/show/libvirt-kinds', 'fixtures/show/tap', '--format', 'github', '--summary', summary]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^::warning /m);
    const md = readFileSync(summary, 'utf8');
    // Appended, as GitHub's step summary expects; the earlier step's text stays.
    assert.ok(md.startsWith('# earlier step\n## vnet-virt lint\n'), md.slice(0, 80));
    assert.match(md, /^⚠️ 2 files: \*\*0 errors\*\*, 1 warning, 0 info$/m);
    assert.match(md, /^\| ⚠️ warning \| `fixtures\/show\/libvirt-kinds\/lv\.xml:18` \| \[reserved-target-prefix\]\(https:\/\/\S+#reserved-target-prefix\) \|/m);
    assert.match(md, /```mermaid\nflowchart LR\n[\s\S]*tap t-web1-0[\s\S]*```/);
    const direct = runCli(['lint', '--no-schema', 'fixtures/show/tap', '--format', 'markdown']);
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stdout, /^✅ 1 file: \*\*0 errors\*\*, 0 warnings, 0 info$/m);
    assert.doesNotMatch(direct.stdout, /\| severity \|/);
    const bad = runCli(['lint', '--no-schema', 'fixtures/show/tap', '--summary', join(dir, 'no/such/folder/x.md')]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  } finally {
    cleanup();
  }
});
