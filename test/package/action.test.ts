// action.yml without GitHub: its structure as a composite action, every input
// it uses declared, and its lint step run for real with npx standing for the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cliPath, fixturesDir, repoRoot, requireOrSkip, tempDir } from '../helpers.js';

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  shell?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Action {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: Step[] };
}

/** YAML to JSON with python3-yaml (pre-commit's own dependency): no YAML parser in node_modules. */
function readYaml(file: string): unknown {
  const r = spawnSync('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot read ${file} as YAML: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const hasYaml = (): boolean => spawnSync('python3', ['-c', 'import yaml']).status === 0;

test('action.yml: a composite action that sets up Node, lints to SARIF, uploads it and annotates; every input it uses is declared', (t) => {
  if (!requireOrSkip(t, hasYaml(), 'python3-yaml is not installed (Debian: python3-yaml, a dependency of pre-commit)')) return;
  const action = readYaml(join(repoRoot, 'action.yml')) as Action;
  assert.ok(action.name && action.description);
  assert.equal(action.runs.using, 'composite');
  const steps = action.runs.steps;
  assert.match(steps[0]!.uses ?? '', /^actions\/setup-node@v\d+$/);
  assert.ok(steps.some((s) => /^github\/codeql-action\/upload-sarif@v\d+$/.test(s.uses ?? '')), 'upload-sarif');
  const lint = steps.find((s) => s.id === 'lint')!;
  assert.match(lint.run!, /npx --yes "\$VNET_VIRT" lint --format sarif/);
  assert.match(lint.run!, /lint --format github/, 'annotations');
  for (const s of steps) {
    assert.ok(s.uses || s.run, 'a step uses an action or runs a script');
    if (s.run) {
      assert.equal(s.shell, 'bash', 'composite run steps must name their shell');
      assert.doesNotMatch(s.run, /\$\{\{/, 'no expression spliced into a script (injection): inputs come as env');
    }
  }
  const text = readFileSync(join(repoRoot, 'action.yml'), 'utf8');
  const used = new Set([...text.matchAll(/\binputs\.([a-z-]+)/g)].map((m) => m[1]!));
  assert.deepEqual([...used].sort(), Object.keys(action.inputs).sort(), 'inputs used == inputs declared');
  for (const [name, input] of Object.entries(action.inputs)) assert.ok(input.description, `input ${name} has a description`);
  for (const [name, output] of Object.entries(action.outputs)) assert.match(output.value, /^\$\{\{ steps\.lint\.outputs\.[a-z-]+ \}\}$/, `output ${name}`);
  const stepIds = new Set(steps.map((s) => s.id).filter(Boolean));
  for (const m of text.matchAll(/steps\.([a-z-]+)\.outputs/g)) assert.ok(stepIds.has(m[1]!), `step ${m[1]} exists`);
});

test("action.yml's lint step, run as the runner would: SARIF written, annotations printed, the exit code as an output", (t) => {
  if (!requireOrSkip(t, hasYaml(), 'python3-yaml is not installed')) return;
  const action = readYaml(join(repoRoot, 'action.yml')) as Action;
  const lint = action.runs.steps.find((s) => s.id === 'lint')!;
  const { dir, cleanup } = tempDir('vnet-action-');
  t.after(cleanup);
  // npx --yes vnet-virt@VERSION ARGS... -> this build of the CLI.
  writeFileSync(join(dir, 'npx'), `#!/bin/sh\n[ "$1" = --yes ] && shift\nshift\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
  chmodSync(join(dir, 'npx'), 0o755);
  writeFileSync(join(dir, 'script.sh'), lint.run!);
  copyFileSync(join(fixturesDir, 'lint', 'mac-zero', 'bad.xml'), join(dir, 'web1.xml'));
  const run = (paths: string): { code: number; out: string; outputs: string; sarif: string } => {
    const outputs = join(dir, `outputs-${paths.length}`);
    writeFileSync(outputs, '');
    const inputs = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? '']));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${dir}:${process.env.PATH}`,
      GITHUB_OUTPUT: outputs,
      VNET_VIRT: `vnet-virt@${inputs['version']}`,
      PATHS: paths,
      ARGS: '--no-schema',
      CATEGORY: inputs['category'],
      SARIF_FILE: inputs['sarif-file'],
      ANNOTATIONS: inputs['annotations'],
    };
    // GitHub runs bash steps as: bash --noprofile --norc -eo pipefail FILE
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', join(dir, 'script.sh')], { cwd: dir, env, encoding: 'utf8' });
    let sarif = '';
    try {
      sarif = readFileSync(join(dir, inputs['sarif-file']!), 'utf8');
    } catch {
      // none written
    }
    return { code: r.status ?? -1, out: r.stdout + r.stderr, outputs: readFileSync(outputs, 'utf8'), sarif };
  };
  const bad = run('web1.xml');
  assert.equal(bad.code, 0, `the step itself succeeds; a later step fails the job: ${bad.out}`);
  assert.match(bad.outputs, /^exit-code=3$/m);
  assert.match(bad.outputs, /^sarif-file=vnet-virt\.sarif$/m);
  const log = JSON.parse(bad.sarif) as { runs: { automationDetails: { id: string }; results: { ruleId: string }[] }[] };
  assert.equal(log.runs[0]!.automationDetails.id, 'vnet-virt/');
  assert.deepEqual(log.runs[0]!.results.map((r) => r.ruleId), ['mac-zero']);
  assert.match(bad.out, /^::error file=web1\.xml,line=\d+,title=vnet-virt mac-zero::/m);
  const none = run('missing-folder/');
  assert.match(none.outputs, /^exit-code=3$/m, 'a mistyped path fails (file-unreadable)');
});
