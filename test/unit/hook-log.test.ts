// The hook log's targets: a file (one write per line) and syslog (one logger(1) per call).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openHookLog, SYSLOG } from '../../src/hook/log.js';
import { tempDir } from '../helpers.js';

test('a file log gets one line per action, with time, domain, operation and PID', () => {
  const { dir, cleanup } = tempDir();
  try {
    const log = openHookLog(join(dir, 'hook.log'), 'web1', 'prepare/begin', () => assert.fail('no warning'));
    log('up begins');
    log('two\nlines');
    log.close();
    const lines = readFileSync(join(dir, 'hook.log'), 'utf8').split('\n');
    assert.match(lines[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z web1 prepare/begin \\[${process.pid}\\] up begins$`));
    assert.match(lines[1]!, / two lines$/);
  } finally {
    cleanup();
  }
});

test('syslog: the lines of a call go to logger(1) in one process, tagged, when the log closes', () => {
  const { dir, cleanup } = tempDir();
  const path = process.env.PATH;
  try {
    // A stand-in logger first in PATH records its arguments and stdin.
    writeFileSync(join(dir, 'logger'), `#!/bin/sh\necho "args: $*" >> "${dir}/calls"\ncat >> "${dir}/calls"\n`);
    chmodSync(join(dir, 'logger'), 0o755);
    process.env.PATH = `${dir}:${path}`;
    const log = openHookLog(SYSLOG, 'web1', 'release/end', (s) => assert.fail(s));
    log('down begins');
    log('down done: 4 steps');
    assert.throws(() => readFileSync(join(dir, 'calls')), /ENOENT/, 'nothing is sent before the call ends');
    log.close();
    log.close();
    const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    assert.equal(calls[0], 'args: --tag vnet-virt-hook --priority daemon.info');
    assert.match(calls[1]!, / web1 release\/end \[\d+\] down begins$/);
    assert.match(calls[2]!, / down done: 4 steps$/);
    assert.equal(calls.length, 3, 'one logger call, closing twice sends nothing more');
  } finally {
    process.env.PATH = path;
    cleanup();
  }
});

test('syslog: a logger that fails is reported once on the warning channel, and the call goes on', () => {
  const { dir, cleanup } = tempDir();
  const path = process.env.PATH;
  try {
    writeFileSync(join(dir, 'logger'), '#!/bin/sh\necho "logger: socket /dev/log: No such file or directory" >&2\nexit 1\n');
    chmodSync(join(dir, 'logger'), 0o755);
    process.env.PATH = `${dir}:${path}`;
    const warnings: string[] = [];
    const log = openHookLog(SYSLOG, 'web1', 'prepare/begin', (s) => warnings.push(s));
    log('up begins');
    log.close();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^vnet-virt: web1: logger\(1\) could not send the hook log to syslog: logger: socket \/dev\/log/);
  } finally {
    process.env.PATH = path;
    cleanup();
  }
});
