// What every command owes its user: usage on stderr with exit 2 when none is
// given, usage errors that point at the command's own --help, examples and
// exit codes in every --help, shell completion and a man page from the same definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildProgram } from '../../src/cli/program.js';
import { allCommands, HELP, pathOf } from '../../src/cli/help.js';
import { bashCompletion, zshCompletion } from '../../src/cli/completion.js';
import { manPage } from '../../src/cli/man.js';
import { repoRoot, runCli, tempDir } from '../helpers.js';

const commands = allCommands(buildProgram()).filter((c) => c.name() !== 'help');

test('no command: usage on stderr, nothing on stdout, exit 2; a group without its subcommand too', () => {
  for (const args of [[], ['hook'], ['container'], ['netns']]) {
    const r = runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Usage: vnet-virt/);
  }
  assert.equal(runCli(['--help']).code, 0);
});

test("usage errors are one line that points at the command's own --help", () => {
  for (const [args, path] of [
    [['lint', '--bogus'], 'lint'],
    [['hook', 'install', '--bogus'], 'hook install'],
    [['container', 'veth'], 'container veth'],
    [['lint', '--max-warnings', 'x', 'a.xml'], 'lint'],
    [['completion', 'fish'], 'completion'],
    [['frobnicate'], ''],
  ] as const) {
    const r = runCli([...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    assert.ok(r.stderr.trimEnd().endsWith(`; see vnet-virt ${path ? `${path} ` : ''}--help`), r.stderr);
  }
});

test('every command has examples and exit codes in its --help', () => {
  for (const cmd of commands) {
    const path = pathOf(cmd);
    assert.ok(HELP[path], `HELP has an entry for '${path}'`);
    let text = '';
    cmd.configureOutput({ writeOut: (s) => (text += s) });
    cmd.outputHelp();
    assert.match(text, /\nExamples:\n {2}\S/, `${path || 'vnet-virt'} --help has examples`);
    assert.match(text, /\nExit codes:\n {2}0 {2}\S/, `${path || 'vnet-virt'} --help has exit codes`);
    for (const [example] of HELP[path]!.examples) assert.ok(example.startsWith(`vnet-virt ${path}`) || example.includes(`| vnet-virt ${path}`) || path === '', `example of ${path}: ${example}`);
  }
  assert.deepEqual(Object.keys(HELP).sort(), commands.map(pathOf).sort(), 'no help for commands that do not exist');
});

/** What bash completes for a command line (the last word is the one being completed). */
function complete(script: string, words: string[]): string[] {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'c.bash'), script);
    const line = ['vnet-virt', ...words].map((w) => `'${w}'`).join(' ');
    const r = spawnSync('bash', ['-c', `source ${dir}/c.bash; COMP_WORDS=(${line}); COMP_CWORD=${words.length}; _vnet_virt; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  } finally {
    cleanup();
  }
}

test('bash completion: commands, subcommands, options and option values, from the CLI definitions', () => {
  const r = runCli(['completion', 'bash']);
  assert.equal(r.code, 0);
  const script = r.stdout;
  assert.equal(script, bashCompletion(buildProgram()));
  assert.deepEqual(complete(script, ['at']), ['attach-direct', 'attach-macvtap', 'attach-tap']);
  assert.deepEqual(complete(script, ['hook', '']), ['install', 'replay', 'run', 'status', 'uninstall']);
  assert.ok(complete(script, ['lint', '--']).includes('--format'));
  assert.deepEqual(complete(script, ['lint', '--format', '']), ['codeclimate', 'github', 'json', 'junit', 'markdown', 'sarif', 'text']);
  assert.deepEqual(complete(script, ['lint', '--sc']), ['--schema-dir', '--scope']);
  assert.deepEqual(complete(script, ['lint', '--scope', 'f']), ['file', 'folder']);
  assert.deepEqual(complete(script, ['container', 'veth', '--b']), ['--bridge']);
  assert.deepEqual(complete(script, ['lint', 'x']), [], 'files: left to bash (complete -o default)');
});

test('zsh completion: a #compdef script that zsh can parse (when zsh is installed)', () => {
  const script = runCli(['completion', 'zsh']).stdout;
  assert.match(script, /^#compdef vnet-virt\n/);
  assert.equal(script, zshCompletion(buildProgram()));
  assert.match(script, /'lint'\)/);
  assert.doesNotMatch(script, /\blocal path\b/, 'zsh ties $path to $PATH');
  if (spawnSync('zsh', ['-c', 'true']).status === 0) assert.equal(spawnSync('zsh', ['-n'], { input: script }).status, 0);
});

test('the man page is generated from the CLI and shipped up to date (npm run man)', () => {
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const page = manPage(buildProgram(), version);
  assert.equal(readFileSync(join(repoRoot, 'man/vnet-virt.1'), 'utf8'), page, 'man/vnet-virt.1 is stale: run npm run man');
  for (const cmd of commands.slice(1)) assert.ok(page.includes(`.SS ${pathOf(cmd).replace(/-/g, '\\-')}\n`), `a section for ${pathOf(cmd)}`);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { man: string[]; files: string[] };
  assert.deepEqual(pkg.man, ['man/vnet-virt.1']);
  assert.ok(pkg.files.includes('man'));
  // groff renders it without a warning.
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', join(repoRoot, 'man/vnet-virt.1')], { encoding: 'utf8' });
  if (r.error === undefined) assert.equal(r.stderr, '', r.stderr);
});
