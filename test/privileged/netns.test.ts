import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { requireRoot, runCli } from '../helpers.js';

/** An anonymous network namespace like systemd-nspawn's: a process started by `unshare -n`. */
async function withAnonymousNetns(fn: (pid: number) => Promise<void> | void): Promise<void> {
  const child = spawn('unshare', ['-n', 'sleep', '120'], { stdio: 'ignore' });
  try {
    // unshare execs sleep in place, so child.pid is the process inside; wait for the exec.
    for (let i = 0; i < 100 && readlinkSync(`/proc/${child.pid}/ns/net`) === readlinkSync('/proc/self/ns/net'); i++)
      await new Promise((r) => setTimeout(r, 10));
    await fn(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

test('netns list shows an anonymous namespace; attach names it; detach removes only the name', async (t) => {
  if (!requireRoot(t)) return;
  const name = `vnet-test-${randomBytes(4).toString('hex')}`;
  await withAnonymousNetns((pid) => {
    try {
      const list = runCli(['netns', 'list', '--anonymous', '--json']);
      assert.equal(list.code, 0, list.stderr);
      const entry = (JSON.parse(list.stdout).namespaces as { pids: number[]; names: string[] }[]).find((n) => n.pids.includes(pid));
      assert.ok(entry, `pid ${pid} not listed as anonymous`);
      assert.deepEqual(entry.names, []);

      const attach = runCli(['netns', 'attach', name, String(pid)]);
      assert.equal(attach.code, 0, attach.stderr);
      // The handle works with ip and is the same namespace as the process's.
      assert.match(execFileSync('ip', ['-n', name, '-j', 'link', 'show'], { encoding: 'utf8' }), /"ifname":"lo"/);
      assert.equal(
        execFileSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' }).trim().split('\n').includes(name),
        true,
      );
      assert.equal(runCli(['netns', 'attach', name, String(pid)]).code, 0, 'attaching the same name again is a no-op');

      const detach = runCli(['netns', 'detach', name]);
      assert.equal(detach.code, 0, detach.stderr);
      assert.equal(existsSync(`/run/netns/${name}`), false);
      assert.ok(existsSync(`/proc/${pid}/ns/net`), 'the process and its namespace live on');
    } finally {
      if (existsSync(`/run/netns/${name}`)) execFileSync('ip', ['netns', 'delete', name]);
    }
  });
});

test('netns attach refuses bad input without changing anything', async (t) => {
  if (!requireRoot(t)) return;
  const badName = runCli(['netns', 'attach', 'a/b', '1']);
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /^vnet-virt: .*NAME.*'a\/b'.*such as ct1/, 'one line: the argument, the problem, what to do');
  const badPid = runCli(['netns', 'attach', 'x', 'notapid']);
  assert.equal(badPid.code, 2);
  assert.match(badPid.stderr, /^vnet-virt: .*PID.*'notapid'.*netns list/);
  const self = runCli(['netns', 'attach', `vnet-test-${randomBytes(4).toString('hex')}`, String(process.pid)]);
  assert.equal(self.code, 3);
  assert.match(self.stderr, /host's own network namespace/);
  const gone = runCli(['netns', 'detach', `vnet-test-none-${randomBytes(4).toString('hex')}`]);
  assert.equal(gone.code, 3);
});
