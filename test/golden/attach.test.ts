// Golden tests of attach-tap, attach-macvtap, attach-direct and detach: each
// folder of fixtures/attach holds input.xml, args (one CLI argument a line) and
// the expected results. Missing expected files are written (outside CI);
// VNET_UPDATE_GOLDEN=1 (npm run golden:update) rewrites them all.
import { describe, it, test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { cliPath, fixturesDir, golden, repoRoot, runCli, tempDir, updateGolden as update } from '../helpers.js';
import type { CliResult } from '../helpers.js';
import { libvirtProblems, requireLibvirtTools, schemaVerdicts } from './attach-libvirt.js';

const casesDir = join(fixturesDir, 'attach');
const EXPECTED = ['expected.xml', 'expected.diff', 'expected.json', 'expected.stderr', 'expected.exit'];

const validateResult = new Ajv({ allErrors: true }).compile(
  JSON.parse(readFileSync(join(repoRoot, 'schemas/attach-result.json'), 'utf8')),
);

/** Every XML the cases produced, by case, for the libvirt check at the end. */
const produced = new Map<string, string>();
const invalidOnPurpose = new Map<string, string>();

/** runCli, without blocking: the cases run a few at a time. */
function runCliAsync(args: string[], opts: { cwd: string; input: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input);
  });
}

function readArgs(dir: string): string[] {
  const lines = readFileSync(join(dir, 'args'), 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}


const cases = readdirSync(casesDir)
  .filter((n) => statSync(join(casesDir, n)).isDirectory())
  .sort();

test('there is a golden case for each command', () => {
  for (const command of ['attach-tap', 'attach-macvtap', 'attach-direct', 'detach'])
    assert.ok(cases.some((c) => readArgs(join(casesDir, c))[0] === command), command);
});

describe('golden cases', { concurrency: 4 }, () => {
  for (const name of cases) {
    it(name, async (t) => {
      const dir = join(casesDir, name);
      const args = readArgs(dir);
      const { dir: work, cleanup } = tempDir('vnet-golden-');
      try {
        const inputPath = join(dir, 'input.xml');
        const hasInput = existsSync(inputPath);
        if (hasInput) copyFileSync(inputPath, join(work, 'input.xml'));
        const inputBytes = hasInput ? readFileSync(inputPath) : undefined;
        const stdin = args.includes('-') && hasInput ? inputBytes!.toString('utf8') : '';
        const r = await runCliAsync(args, { cwd: work, input: stdin });

        const present = new Set<string>();
        const check = (file: string, actual: string, same?: (a: string, e: string) => void): void => {
          present.add(file);
          golden(t, dir, file, actual, same);
        };
        if (r.code !== 0) check('expected.exit', `${r.code}\n`);
        if (r.stderr !== '') check('expected.stderr', r.stderr);
        if (r.stdout !== '') {
          if (args.includes('--json')) {
            assert.match(r.stdout, /^[^\n]*\n$/, '--json prints exactly one line');
            const result = JSON.parse(r.stdout) as Record<string, unknown>;
            assert.ok(validateResult(result), JSON.stringify(validateResult.errors));
            if (typeof result.xml === 'string') produced.set(`${name} (json xml)`, result.xml);
            check('expected.json', JSON.stringify(result, null, 2) + '\n', (a, e) => assert.deepEqual(JSON.parse(a), JSON.parse(e)));
          } else if (args.includes('--print-diff')) check('expected.diff', r.stdout);
          else check('expected.xml', r.stdout);
        }
        const outFile = args.includes('-o') ? args[args.indexOf('-o') + 1]! : args.includes('--in-place') ? 'input.xml' : undefined;
        if (r.code === 0 && outFile !== undefined) {
          assert.ok(!present.has('expected.xml'), 'the XML went to stdout and to a file');
          check('expected.xml', readFileSync(join(work, outFile), 'utf8'));
        }
        if (r.code === 0 && present.has('expected.xml')) produced.set(name, readFileSync(join(dir, 'expected.xml'), 'utf8'));
        if (existsSync(join(dir, 'not-valid-for-libvirt'))) invalidOnPurpose.set(name, readFileSync(inputPath, 'utf8'));

        // Every expected file there is must have been produced by this run.
        for (const f of EXPECTED) {
          if (present.has(f) || !existsSync(join(dir, f))) continue;
          if (update) rmSync(join(dir, f));
          else assert.fail(`${name}/${f} exists but the run produced no such output`);
        }
        if (r.code !== 0) {
          assert.match(r.stderr, /^vnet-virt: [^\n]+\n$/, 'one line on stderr');
          assert.equal(r.stdout, '', 'nothing on stdout when it fails');
          if (inputBytes) assert.deepEqual(readFileSync(join(work, 'input.xml')), inputBytes, 'a failing run leaves the input alone');
        }
        // Nothing but the input and the asked-for output is left behind (no temporary files).
        const left = readdirSync(work).sort();
        assert.deepEqual(left, [...new Set([...(hasInput ? ['input.xml'] : []), ...(r.code === 0 && outFile ? [outFile] : [])])].sort());
      } finally {
        cleanup();
      }
    });
  }
});

test('stderr names the file, the element or the option, and says what to do', () => {
  for (const name of cases) {
    const file = join(casesDir, name, 'expected.stderr');
    if (!existsSync(file)) continue;
    const line = readFileSync(file, 'utf8');
    // commander's usage errors quote the option or argument and point at --help
    if (/^vnet-virt: (unknown option|unknown command|missing required argument|required option) '/.test(line)) {
      assert.match(line, /; see vnet-virt [a-z-]+ --help\n$/, `${name}: points at its command's --help`);
      continue;
    }
    assert.match(line, /^vnet-virt: (input\.xml|<stdin>|missing\.xml|no-such-folder\/out\.xml|--[a-z-]+|-o)[:;]/, `${name}: names what it is about`);
    assert.match(line, /; .+/, `${name}: has a hint`);
  }
});

test('exit codes: option values give 2, file contents and missing files give 3', () => {
  for (const name of cases) {
    const file = join(casesDir, name, 'expected.exit');
    if (!existsSync(file)) continue;
    const code = Number(readFileSync(file, 'utf8'));
    const want = /^(bad-(mac|ifname|model|queues|mtu|pci|output|in-place|unknown|missing-argument|option)|macvtap-(bad|missing|veth|same)|direct-(bad|missing)|detach-(both|no-option))/.test(name) ? 2 : 3;
    assert.equal(code, want, `${name}: exit ${code}`);
  }
});

test('the README quick start works on the shipped fixture', (t) => {
  const r = runCli(['attach-tap', 'fixtures/quickstart/web1.xml', '--bridge', 'br0', '--print-diff']);
  assert.equal(r.code, 0, r.stderr);
  golden(t, join(fixturesDir, 'quickstart'), 'expected.diff', r.stdout);
});

test('every XML the golden cases produce is valid for libvirt (schema and virsh define)', (t) => {
  if (!requireLibvirtTools(t)) return;
  assert.ok(produced.size > 50, `only ${produced.size} outputs collected`);
  const { dir, cleanup } = tempDir('vnet-golden-libvirt-');
  try {
    const wanted = new Map([...produced].filter(([name]) => !invalidOnPurpose.has(name.replace(/ \(json xml\)$/, ''))));
    const problems = libvirtProblems(dir, wanted);
    assert.deepEqual([...problems], []);
    // The batch runs what virt-xml-validate runs; the script itself agrees on a sample.
    const sample = join(dir, 'sample.xml');
    writeFileSync(sample, produced.get('tap-all-options')!);
    const v = spawnSync('virt-xml-validate', [sample], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    // An exception holds only while its input is itself invalid: no silent skips.
    const inputs = new Map([...invalidOnPurpose].map(([name, xml], i) => [join(dir, `input-${i}.xml`), { name, xml }]));
    for (const [f, { xml }] of inputs) writeFileSync(f, xml);
    for (const [f, verdict] of schemaVerdicts([...inputs.keys()]))
      assert.notEqual(verdict, undefined, `${inputs.get(f)!.name} is marked not-valid-for-libvirt but its input is valid`);
  } finally {
    cleanup();
  }
});
