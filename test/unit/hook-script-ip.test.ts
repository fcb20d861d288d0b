// The installed script's plumbing, without root: a stand-in `ip` (echoes each
// line it reads as a JSON line) and a stand-in `node` (talks to it through the
// inherited descriptors) show what the script hands node, under each shell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_MARK } from '../../src/hook/dispatch.js';
import { hookScript } from '../../src/hook/script.js';
import { SCRIPT_IP_ENV, scriptIpOf } from '../../src/hook/script-ip.js';
import { isRoot, requireOrSkip, scriptShells, tempDir } from '../helpers.js';

const SHELLS = scriptShells();

/** A domain XML with what a here-document could mangle: $, backquotes, backslashes, a line "EOF", no final newline. */
const XML = `<domain><metadata><r xmlns="${RECORD_MARK}"/></metadata><name>a$b \`id\` \\n \\\\</name>\nEOF\n$(echo no)\n</domain>`;

function withFakes(fn: (dir: string, script: string, env: NodeJS.ProcessEnv) => void): void {
  const { dir, cleanup } = tempDir();
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    mkdirSync(join(dir, 'tmp'));
    // ip: the arguments, then every input line back as ["line"], as ip -j answers one line per command.
    writeFileSync(join(bin, 'ip'), '#!/bin/sh\necho "[\\"args $* parent $PPID\\"]"\nwhile IFS= read -r l; do echo "[\\"$l\\"]"; done\n');
    // node: what it was given, then one exchange with the script's ip.
    writeFileSync(
      join(bin, 'node'),
      `#!/bin/sh
echo "env $${SCRIPT_IP_ENV}"
echo "node $$"
cat > ${join(dir, 'stdin')}
[ -n "$${SCRIPT_IP_ENV}" ] || exit 0
printf 'link show\\n' >&3
exec 3>&-
cat <&4
`,
    );
    chmodSync(join(bin, 'ip'), 0o755);
    chmodSync(join(bin, 'node'), 0o755);
    const script = join(dir, 'hook');
    writeFileSync(script, hookScript({ node: join(bin, 'node'), entry: script, settings: {} }));
    chmodSync(script, 0o755);
    fn(dir, script, { ...process.env, PATH: `${bin}:${process.env.PATH}`, TMPDIR: join(dir, 'tmp') });
  } finally {
    cleanup();
  }
}

test('prepare and release: the script starts ip on two pipes that node inherits as fds 3 and 4, leaves no folder, and passes the XML intact', () => {
  for (const shell of SHELLS)
    withFakes((dir, script, env) => {
      for (const op of [['prepare', 'begin'], ['release', 'end']]) {
        const r = spawnSync(shell[0]!, [...shell.slice(1), script, 'dom', ...op, '-'], { input: XML, env, encoding: 'utf8', timeout: 10_000 });
        assert.equal(r.status, 0, `${shell.join(' ')}: ${r.stderr}`);
        const [envLine, nodeLine, ...answers] = r.stdout.trim().split('\n');
        assert.match(envLine!, /^env 3:4:\d+$/, shell.join(' '));
        // node took the script's place: ip is its child, so the pid node is given cannot be reused while node runs.
        const node = nodeLine!.replace(/^node /, '');
        assert.deepEqual(answers, [`["args -j -d -batch - parent ${node}"]`, '["link show"]'], shell.join(' '));
        assert.equal(spawnSync('cat', [join(dir, 'stdin')], { encoding: 'utf8' }).stdout, `${XML}\n`, `${shell.join(' ')}: the XML as libvirt wrote it`);
        assert.deepEqual(readdirSync(join(dir, 'tmp')), [], `${shell.join(' ')}: the FIFOs' folder is removed`);
      }
    });
});

test('migrate begin starts no ip', () => {
  withFakes((_dir, script, env) => {
    const r = spawnSync('/bin/sh', [script, 'dom', 'migrate', 'begin', '-'], { input: XML, env, encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^env \n/);
  });
});

test('where a here-document is no pipe (here: the shell sees no /proc/self/fd), two FIFOs in a private folder serve, removed; when mkfifo fails, no ip', (t) => {
  if (!requireOrSkip(t, isRoot(), 'needs root for a private mount namespace')) return;
  withFakes((dir, script, env) => {
    mkdirSync(join(dir, 'empty'));
    const noProc = (): ReturnType<typeof spawnSync> =>
      spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /proc/$$/fd && exec /bin/sh "$@"', join(dir, 'empty'), script, 'dom', 'prepare', 'begin', '-'], {
        input: XML,
        env,
        encoding: 'utf8',
        timeout: 10_000,
      });
    const r = noProc();
    assert.equal(r.status, 0, String(r.stderr));
    assert.match(String(r.stdout), /^env 3:4:\d+\nnode \d+\n\["args -j -d -batch - parent \d+"\]\n\["link show"\]\n$/);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
    writeFileSync(join(dir, 'bin', 'mkfifo'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(dir, 'bin', 'mkfifo'), 0o755);
    const r2 = noProc();
    assert.equal(r2.status, 0, String(r2.stderr));
    assert.match(String(r2.stdout), /^env \n/);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });
});

test('scriptIpOf takes only IN:OUT:PID naming two FIFOs above stderr', () => {
  const { dir, cleanup } = tempDir();
  try {
    spawnSync('mkfifo', [join(dir, 'f')]);
    const a = openSync(join(dir, 'f'), 'r+');
    const b = openSync(join(dir, 'f'), 'r+');
    const file = openSync(join(dir, 'plain'), 'w');
    try {
      assert.deepEqual(scriptIpOf({ [SCRIPT_IP_ENV]: `${a}:${b}:42` }), { input: a, output: b, pid: 42 });
      for (const v of [undefined, '', `${a}:${b}`, `${a}:${b}:x`, `${a}:${file}:42`, `1:${b}:42`, `${a}:999:42`, ` ${a}:${b}:42`])
        assert.equal(scriptIpOf({ [SCRIPT_IP_ENV]: v }), undefined, String(v));
    } finally {
      for (const fd of [a, b, file]) closeSync(fd);
    }
  } finally {
    cleanup();
  }
});
