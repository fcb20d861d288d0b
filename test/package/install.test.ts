// Installed as users install it: the packed tarball, `npm install -g` into a
// temporary prefix, then attach, lint and hook install run from another folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fixturesDir, repoRoot, requireOrSkip, tempDir } from '../helpers.js';
import { npmEnv } from './npm.js';


test('package.json: what users and registries read; the build runs at pack time, not at install', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown> & { scripts: Record<string, string>; files: string[] };
  for (const key of ['repository', 'homepage', 'bugs', 'keywords', 'license', 'man']) assert.ok(pkg[key], `package.json has ${key}`);
  assert.equal(pkg['license'], 'MIT');
  assert.match(readFileSync(join(repoRoot, 'LICENSE'), 'utf8'), /^MIT License\n/);
  assert.equal(pkg.scripts['prepare'], undefined, 'no prepare: npm warns about it at a global install');
  assert.match(pkg.scripts['prepack']!, /tsc -p tsconfig.build.json/);
  assert.match(pkg.scripts['test']!, /^tsc -p \. && /, 'npm ci + npm test still build');
  for (const f of ['docs', 'man', 'schemas', 'templates', 'dist/src']) assert.ok(pkg.files.includes(f), `files has ${f}`);
});

test('npm pack, npm install -g into a temporary prefix; attach, lint and hook install work from another folder', (t) => {
  if (!requireOrSkip(t, spawnSync('npm', ['--version']).status === 0, 'npm is not installed')) return;
  const { dir, cleanup } = tempDir('vnet-pkg-');
  t.after(cleanup);
  // dist/ is fresh (npm test just built it): the tarball is packed without running prepack's build again.
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: repoRoot, encoding: 'utf8', env: npmEnv() }).trim();
  assert.match(name, /^vnet-virt-\d+\.\d+\.\d+\.tgz$/, 'npm pack prints only the name (.npmrc: pre-commit reads it)');
  const listing = execFileSync('tar', ['tzf', join(dir, name)], { encoding: 'utf8' }).split('\n');
  for (const f of ['package/LICENSE', 'package/docs/rules.md', 'package/man/vnet-virt.1', 'package/action.yml', 'package/.pre-commit-hooks.yaml', 'package/dist/src/cli/main.js'])
    assert.ok(listing.includes(f), `the tarball holds ${f}`);
  assert.ok(!listing.some((f) => f.startsWith('package/dist/test/') || f.startsWith('package/test/') || f.startsWith('package/fixtures/')), 'no tests in the tarball');

  const prefix = join(dir, 'prefix');
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, join(dir, name)], { encoding: 'utf8', env: npmEnv({ npm_config_loglevel: 'warn' }) });
  assert.equal(install.status, 0, install.stderr);
  assert.doesNotMatch(install.stderr, /prepare/i, 'no warning about a prepare script');
  const bin = join(prefix, 'bin', 'vnet-virt');
  assert.ok(existsSync(join(prefix, 'share', 'man', 'man1', 'vnet-virt.1')), 'the man page is installed');

  const work = join(dir, 'work');
  mkdirSync(work);
  copyFileSync(join(fixturesDir, 'quickstart', 'web1.xml'), join(work, 'web1.xml'));
  const run = (...args: string[]): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync(bin, args, { cwd: work, encoding: 'utf8' });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string;
  assert.equal(run('--version').stdout.trim(), version);
  const attach = run('attach-tap', 'web1.xml', '--bridge', 'br0', '--in-place');
  assert.equal(attach.code, 0, attach.stderr);
  assert.match(readFileSync(join(work, 'web1.xml'), 'utf8'), /<target dev=['"][^'"]+['"] managed=['"]no['"]\/>/);
  const lint = run('lint', '--format', 'sarif', 'web1.xml');
  assert.equal(lint.code, 0, lint.stderr);
  const sarif = JSON.parse(lint.stdout) as { runs: { tool: { driver: { version: string; rules: { help: { markdown: string } }[] } } }[] };
  assert.equal(sarif.runs[0]!.tool.driver.version, version);
  assert.ok(sarif.runs[0]!.tool.driver.rules.every((r) => r.help.markdown.length > 50), 'rule help read from the installed docs/');
  const hooks = join(dir, 'hooks');
  const hook = run('hook', 'install', '--hooks-dir', hooks, '--libvirt-version', '9.0.0', '--log', 'none', '--force');
  assert.equal(hook.code, 0, hook.stderr);
  const installed = readdirSync(join(hooks, 'qemu.d'));
  assert.deepEqual(installed, ['vnet-virt']);
  assert.match(readFileSync(join(hooks, 'qemu.d', 'vnet-virt'), 'utf8'), new RegExp(prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the hook runs the installed copy');
});
