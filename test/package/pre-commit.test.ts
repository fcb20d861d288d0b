// The pre-commit hook as users add it: Debian's pre-commit installs this
// repository's hook (language: node) into a temporary cache, and a commit of a
// bad domain XML is blocked while a good one goes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fixturesDir, repoRoot, requireOrSkip, tempDir } from '../helpers.js';
import { npmEnv } from './npm.js';

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('.pre-commit-hooks.yaml: vnet-virt-lint on *.xml blocks a bad domain XML and passes a good one', (t) => {
  if (!requireOrSkip(t, spawnSync('pre-commit', ['--version']).status === 0, 'pre-commit is not installed (Debian: pre-commit)')) return;
  const { dir, cleanup } = tempDir('vnet-pc-');
  t.after(cleanup);
  // The hook repository: this working tree as it is now (tracked and new files), one commit.
  const hookRepo = join(dir, 'hook-repo');
  const files = git(repoRoot, 'ls-files', '-co', '--exclude-standard').split('\n').filter((f) => f && f !== '.guest');
  for (const f of files) {
    mkdirSync(dirname(join(hookRepo, f)), { recursive: true });
    try {
      copyFileSync(join(repoRoot, f), join(hookRepo, f));
    } catch {
      // A file deleted in the working tree but still in the index.
    }
  }
  git(hookRepo, 'init', '-q');
  git(hookRepo, 'add', '-A');
  git(hookRepo, 'commit', '-qm', 'hook repo');
  const rev = git(hookRepo, 'rev-parse', 'HEAD').trim();

  const work = join(dir, 'work');
  mkdirSync(work);
  git(work, 'init', '-q');
  writeFileSync(join(work, '.pre-commit-config.yaml'), `repos:\n  - repo: ${hookRepo}\n    rev: ${rev}\n    hooks:\n      - id: vnet-virt-lint\n`);
  const env = npmEnv({ PRE_COMMIT_HOME: join(dir, 'cache') });
  const pc = spawnSync('pre-commit', ['install'], { cwd: work, encoding: 'utf8', env });
  assert.equal(pc.status, 0, pc.stdout + pc.stderr);
  const commit = (file: string, source: string): { code: number; out: string } => {
    copyFileSync(source, join(work, file));
    git(work, 'add', file, '.pre-commit-config.yaml');
    const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-m', file], { cwd: work, encoding: 'utf8', env });
    return { code: r.status ?? -1, out: r.stdout + r.stderr };
  };
  const bad = commit('web1.xml', join(fixturesDir, 'lint', 'mac-zero', 'bad.xml'));
  assert.notEqual(bad.code, 0, 'the commit is blocked');
  assert.match(bad.out, /vnet-virt lint\.+Failed/);
  assert.match(bad.out, /web1\.xml:\d+: error mac-zero: /);
  assert.throws(() => git(work, 'rev-parse', 'HEAD'), 'nothing was committed');
  const good = commit('web1.xml', join(fixturesDir, 'lint', 'mac-zero', 'good.xml'));
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /vnet-virt lint\.+Passed/);
  // A commit of XML that is not a domain passes (the hook gives --allow-empty).
  writeFileSync(join(work, 'net.xml'), '<network><name>default</name></network>\n');
  git(work, 'add', 'net.xml');
  const other = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-m', 'net'], { cwd: work, encoding: 'utf8', env });
  assert.equal(other.status, 0, other.stdout + other.stderr);
  assert.equal(readFileSync(join(work, 'net.xml'), 'utf8').length > 0, true);
});
