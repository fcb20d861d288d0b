// Benchmark (not a test): vnet-virt lint over the corpus domain files copied ten
// times, against virt-xml-validate once per file and one xmllint run over all.
// Run: npm run bench:lint   (options: --copies N, --runs N, --keep)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { cliPath, corpusDir } from '../../test/helpers.js';

const cli = cliPath;
const corpus = corpusDir;
const rng = '/usr/share/libvirt/schemas/domain.rng';

const { values } = parseArgs({
  options: { copies: { type: 'string', default: '10' }, runs: { type: 'string', default: '5' }, keep: { type: 'boolean', default: false } },
});
const copies = Number(values.copies);
const runs = Number(values.runs);

interface Verdicts {
  valid: number;
  invalid: number;
}

function timed(
  argv: string[],
  stdoutFile?: string,
  env?: NodeJS.ProcessEnv,
  stderrFile?: string,
): { ms: number; stdout: string; stderr: string; code: number } {
  const fd = stdoutFile ? openSync(stdoutFile, 'w') : undefined;
  // A pipe read line by line costs the child time; a file is what a user's `2>log` would be.
  const errFd = stderrFile ? openSync(stderrFile, 'w') : undefined;
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    stdio: ['ignore', fd ?? 'pipe', errFd ?? 'pipe'],
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    env: env ?? process.env,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (fd !== undefined) closeSync(fd);
  if (errFd !== undefined) closeSync(errFd);
  const stderr = stderrFile ? readFileSync(stderrFile, 'utf8') : (r.stderr ?? '');
  return { ms, stdout: r.stdout ?? '', stderr, code: r.status ?? -1 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as { file: string; root: string | null }[];
const domains = manifest.filter((e) => e.root === 'domain').map((e) => e.file);
const dir = mkdtempSync(join(tmpdir(), 'vnet-bench-lint-'));
const files: string[] = [];
for (let c = 0; c < copies; c++)
  for (const f of domains) {
    const to = join(dir, `copy${c}`, f);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(corpus, f), to);
    files.push(to);
  }
files.sort();
console.log(`${files.length} domain files (${domains.length} from the corpus, ${copies} copies) in ${dir}`);

try {
  // Interleaved runs: this machine is shared and noisy; medians of alternating runs compare fairly.
  const lintMs: number[] = [];
  const wasmMs: number[] = [];
  const xmllintMs: number[] = [];
  const wasmEnv = { ...process.env, VNET_LINT_SCHEMA_ENGINE: 'wasm' };
  let xmllintVerdicts: Verdicts = { valid: 0, invalid: 0 };
  for (let i = 0; i < runs; i++) {
    lintMs.push(timed([process.execPath, cli, 'lint', '--format', 'text', dir], '/dev/null').ms);
    wasmMs.push(timed([process.execPath, cli, 'lint', '--format', 'text', dir], '/dev/null', wasmEnv).ms);
    const x = timed(['xmllint', '--noout', '--relaxng', rng, ...files], undefined, undefined, join(dir, 'xmllint.log'));
    xmllintMs.push(x.ms);
    xmllintVerdicts = {
      valid: x.stderr.match(/ validates$/gm)?.length ?? 0,
      invalid: x.stderr.match(/ fails to validate$/gm)?.length ?? 0,
    };
  }

  const json = timed([process.execPath, cli, 'lint', '--format', 'json', dir]);
  const result = JSON.parse(json.stdout) as { files: number; findings: { rule: string; file: string }[] };
  const rejected = new Set(result.findings.filter((f) => f.rule === 'schema' || f.rule === 'xml-syntax').map((f) => f.file));
  const lintVerdicts: Verdicts = { valid: result.files - rejected.size, invalid: rejected.size };

  const vxv: Verdicts = { valid: 0, invalid: 0 };
  const vxvStart = process.hrtime.bigint();
  for (const f of files) {
    const r = spawnSync('virt-xml-validate', [f, 'domain'], { stdio: 'ignore' });
    if (r.status === 0) vxv.valid++;
    else vxv.invalid++;
  }
  const vxvMs = Number(process.hrtime.bigint() - vxvStart) / 1e6;

  const lint = median(lintMs);
  const xmllint = median(xmllintMs);
  console.log(`vnet-virt lint (all rules, text > /dev/null): ${fmt(lint)}  (median of ${runs}; runs: ${lintMs.map(fmt).join(', ')})`);
  console.log(`  same, VNET_LINT_SCHEMA_ENGINE=wasm:         ${fmt(median(wasmMs))}  (runs: ${wasmMs.map(fmt).join(', ')})`);
  console.log(`xmllint --relaxng, one run over all files:    ${fmt(xmllint)}  (median of ${runs}; runs: ${xmllintMs.map(fmt).join(', ')})`);
  console.log(`virt-xml-validate, once per file:             ${fmt(vxvMs)}`);
  console.log(`virt-xml-validate / lint: ${(vxvMs / lint).toFixed(1)}x faster (aim: >= 20x)`);
  console.log(`lint / xmllint:           ${(lint / xmllint).toFixed(2)}x (aim: <= 1.5x)`);
  console.log('schema verdicts (valid / invalid):');
  console.log(`  vnet-virt lint      ${lintVerdicts.valid} / ${lintVerdicts.invalid}`);
  console.log(`  xmllint             ${xmllintVerdicts.valid} / ${xmllintVerdicts.invalid}`);
  console.log(`  virt-xml-validate   ${vxv.valid} / ${vxv.invalid}`);
  const agree =
    lintVerdicts.valid === xmllintVerdicts.valid &&
    lintVerdicts.valid === vxv.valid &&
    lintVerdicts.invalid === xmllintVerdicts.invalid &&
    lintVerdicts.invalid === vxv.invalid;
  console.log(agree ? 'verdicts agree' : 'VERDICTS DISAGREE');
  if (!agree) process.exitCode = 1;
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
