// System tier plumbing: a real libvirtd + virtlogd in a throwaway network
// namespace and a private mount namespace, and the tiny guest that must ping.
//
// Hermetic: the daemons see temporary folders bind-mounted over /etc/libvirt,
// /etc/libvirt/hooks, /run/libvirt, /run/vnet-virt, /var/{lib,cache,log}/libvirt (and, when the
// machine lacks libvirt's user, /etc/passwd and /etc/group), so the machine's
// files are never written. virsh reaches the daemon through its socket's
// temporary path. Only one such libvirtd runs at a time (a lock file says whose).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { run, type RunResult } from '../../src/host/run.js';
import { isRoot, repoRoot, requireOrSkip } from '../helpers.js';

export type { RunResult };

export interface Libvirt {
  /** The network namespace the daemons and every QEMU they start live in. */
  ns: string;
  /** What libvirtd sees as /etc/libvirt/hooks (put qemu.d/NAME here; then reload() or pass it to startLibvirt). */
  hooksDir: string;
  /** What libvirtd sees as /run/libvirt (its sockets). */
  runDir: string;
  /** What libvirtd sees as /var/log/libvirt: libvirtd.log and qemu/NAME.log. */
  logDir: string;
  /** What libvirtd (and so its hooks) sees as /run/vnet-virt: the hooks' journals, never the machine's. */
  stateDir: string;
  /** The URI virsh uses to reach this libvirtd. */
  uri: string;
  virsh(...args: string[]): Promise<RunResult>;
  /** libvirtd's log and, with a name, that domain's QEMU log: for assertion messages. */
  logs(domain?: string): string;
  /** SIGHUP libvirtd (it re-reads hooks) and wait until it answers again. */
  reload(): Promise<void>;
  /** Destroy and undefine every domain, stop the daemons, delete the netns and temp folders. Idempotent. */
  stop(): Promise<void>;
}

/**
 * What every private libvirtd here logs at start (no dnsmasq, D-Bus, DMI, /dev/kvm;
 * security driver "none"; every guest "tainted: high-privileges"): left out of
 * assertion messages, whose first lines are all a CI report shows.
 */
const STARTUP_NOISE = new RegExp([
  ': info : (libvirt version|hostname):', 'dnsmasqCapsNewFromBinary', 'virGDBusGetSystemBus', 'networkStateInitialize',
  'udevGetDMIData', 'dmidecode', '^/dev/mem: ', 'virSecurityManagerNew', 'virHostCPUGet(CPUID|TscInfo)', 'tainted: high-privileges',
].join('|'));
/** QEMU's command line at the head of its log (environment, binary, one option a line). */
const QEMU_ARGV = /^([A-Z_]+=\S*|\/\S+qemu-system-\S+|-\S+.*) \\$|^-msg timestamp=on$/;

/**
 * A libvirtd's log folder for an assertion message, what matters first: the last
 * `lines` lines of libvirtd.log, of the domain's QEMU log and of the vnet-virt hook's
 * log, each without the lines every start prints here.
 */
export function daemonLogs(logDir: string, domain?: string, o: { label?: string; lines?: number } = {}): string {
  const lines = o.lines ?? 40;
  const section = (title: string, file: string, noise?: RegExp): string => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return `--- ${title}: (none) ---`;
    }
    const all = text.split('\n').filter((l) => l.trim() !== '');
    const kept = noise ? all.filter((l) => !noise.test(l)) : all;
    const dropped = all.length - kept.length;
    return `--- ${title}${dropped ? ` (${dropped} start-up lines left out)` : ''} ---\n${kept.slice(-lines).join('\n')}`;
  };
  const who = o.label ? `${o.label} ` : '';
  return [
    section(`${who}libvirtd log`, join(logDir, 'libvirtd.log'), STARTUP_NOISE),
    ...(domain ? [section(`${who}qemu log of ${domain}`, join(logDir, 'qemu', `${domain}.log`), new RegExp(`${QEMU_ARGV.source}|${STARTUP_NOISE.source}`))] : []),
    ...(existsSync(join(logDir, 'vnet-virt-hook.log')) ? [section(`${who}hook log`, join(logDir, 'vnet-virt-hook.log'))] : []),
  ].join('\n');
}

/** The one-libvirtd-at-a-time lock: JSON {owner, ns, root, libvirtdPid}. */
export const lockPath = join(tmpdir(), 'vnet-virt-system-libvirtd.lock');

/**
 * libvirt's keepalive, on the daemons' migration connections (qemu.conf), on
 * the connections they serve (libvirtd.conf) and on virsh's. With libvirt's
 * default (5 s x 5), a peer that stalls for 30 s closes the connection: a live
 * migration then fails with "client socket is closed", as CI's did once, with
 * TCG guests on a 2-core machine. 5 s x 18 rides out a stall of 40 s (measured:
 * libvirtd SIGSTOPped mid-migration, either end) and still ends a call to a
 * dead peer (90 s) before the tests' own limit on virsh (120 s).
 */
const KEEPALIVE_COUNT = 18;
const KEEPALIVE = `keepalive_interval = 5\nkeepalive_count = ${KEEPALIVE_COUNT}\n`;
/** virsh's options before -c: quiet, and the keepalive above. */
export const VIRSH = ['-q', '-K', String(KEEPALIVE_COUNT)];

export const QEMU_CONF = `# written by vnet-virt's system tests (private to their libvirtd)
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
${KEEPALIVE}`;

export const LIBVIRTD_CONF = `# written by vnet-virt's system tests (private to their libvirtd)
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
${KEEPALIVE}`;

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).concat('/usr/sbin', '/sbin')) {
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The kernel and initramfs scripts/setup-guest.sh builds, or undefined if it has not run. */
export function guestAssets(): { kernel: string; initrd: string } | undefined {
  const dir = join(repoRoot, '.guest');
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.gz');
  return existsSync(join(dir, 'stamp')) && existsSync(kernel) && existsSync(initrd) ? { kernel, initrd } : undefined;
}

/**
 * Gate for system tests: root, libvirtd, virtlogd, virsh, QEMU, unshare and
 * (unless guest: false) the guest assets. Skips outside CI, fails in CI.
 */
export function requireSystem(t: TestContext, opts: { guest?: boolean } = {}): boolean {
  const missing = ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'unshare', 'ip'].filter((c) => !which(c));
  if (!isRoot()) return requireOrSkip(t, false, 'system tier needs root (a libvirtd in a throwaway namespace)');
  if (missing.length) return requireOrSkip(t, false, `system tier needs ${missing.join(', ')}: run scripts/install-deps.sh`);
  if (opts.guest !== false && !guestAssets()) {
    return requireOrSkip(t, false, 'no guest kernel in .guest/: run `bash scripts/setup-guest.sh` (root, apt)');
  }
  return true;
}

const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A TCG guest that boots .guest/, pings peerIp from guestIp over its first NIC,
 * writes PING-OK or PING-FAIL to serialLog and powers off (ACPI, so the domain
 * shuts off). interfacesXml goes into <devices>; attach-* can add more. With
 * peers, it also pings each of them and writes PEER-OK IP or PEER-FAIL IP for
 * peerIp and each peer before the verdict (see guests.ts: peerResults).
 */
export function guestDomainXml(o: {
  name: string; uuid?: string; serialLog: string; guestIp: string; peerIp: string;
  peers?: string[]; interfacesXml?: string; metadataXml?: string;
}): string {
  const assets = guestAssets();
  if (!assets) throw new Error('no guest kernel in .guest/: run `bash scripts/setup-guest.sh`');
  const peers = o.peers?.length ? ` vnet.peers=${o.peers.join(',')}` : '';
  // no_timer_check: on a loaded host a TCG vCPU misses the kernel's early timer test ("IO-APIC + timer doesn't work", panic).
  const cmdline = `console=ttyS0 panic=-1 no_timer_check vnet.ip=${o.guestIp} vnet.peer=${o.peerIp}${peers}`;
  return [
    `<domain type="qemu">`,
    `  <name>${xmlEscape(o.name)}</name>`,
    ...(o.uuid ? [`  <uuid>${o.uuid}</uuid>`] : []),
    ...(o.metadataXml ? [`  <metadata>`, `    ${o.metadataXml.trim()}`, `  </metadata>`] : []),
    `  <memory unit="MiB">256</memory>`,
    `  <vcpu>1</vcpu>`,
    `  <os>`,
    `    <type arch="x86_64">hvm</type>`,
    `    <kernel>${xmlEscape(assets.kernel)}</kernel>`,
    `    <initrd>${xmlEscape(assets.initrd)}</initrd>`,
    `    <cmdline>${xmlEscape(cmdline)}</cmdline>`,
    `  </os>`,
    `  <features>`,
    `    <acpi/>`,
    `  </features>`,
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <on_reboot>destroy</on_reboot>`,
    `  <on_crash>destroy</on_crash>`,
    `  <devices>`,
    `    <serial type="file">`,
    `      <source path="${xmlEscape(o.serialLog)}"/>`,
    `      <target port="0"/>`,
    `    </serial>`,
    ...(o.interfacesXml ? [`    ${o.interfacesXml.trim()}`] : []),
    `    <memballoon model="none"/>`,
    `  </devices>`,
    `</domain>`,
    ``,
  ].join('\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until the domain is shut off; throws with its logs after timeoutMs. */
export async function waitShutoff(lv: Libvirt, name: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const r = await lv.virsh('domstate', name);
    last = (r.stdout + r.stderr).trim();
    if (r.code === 0 && last === 'shut off') return;
    await sleep(250);
  }
  throw new Error(`domain ${name} not shut off after ${timeoutMs} ms (state: ${last})\n${lv.logs(name)}`);
}

/** pid runs the program comm and is not a zombie (pid reuse must not make us signal a stranger). */
export function processAlive(pid: number, comm: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return name === comm && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface LockInfo { owner: number; ns: string; root: string; libvirtdPid?: number }

/** Who holds the lock, or undefined when nobody does (no lock, or its test and libvirtd are both gone). */
function lockHolder(): { held: LockInfo; what: string; orphanFix?: string } | undefined {
  let held: LockInfo;
  try {
    held = JSON.parse(readFileSync(lockPath, 'utf8')) as LockInfo;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${lockPath} is unreadable (${(e as Error).message}): remove it if no system test is running`);
  }
  const pid = held.libvirtdPid ?? (held.root ? readPid(join(held.root, 'libvirtd.pid')) : undefined);
  const ownerAlive = existsSync(`/proc/${held.owner}`);
  if (pid !== undefined && processAlive(pid, 'libvirtd')) {
    const vpid = readPid(join(held.root, 'virtlogd.pid'));
    const orphanFix = ownerAlive
      ? undefined
      : `kill ${pid}${vpid !== undefined && processAlive(vpid, 'virtlogd') ? ` ${vpid}` : ''}; ip netns del ${held.ns}; rm -rf ${held.root} ${lockPath}`;
    return { held, what: `libvirtd pid ${pid}`, ...(orphanFix ? { orphanFix } : {}) };
  }
  if (ownerAlive) return { held, what: `test pid ${held.owner}` };
  return undefined;
}

/** Atomic create-or-fail: the lock file appears complete or not at all. */
function tryCreateLock(info: LockInfo): boolean {
  const tmp = `${lockPath}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
  try {
    linkSync(tmp, lockPath);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Takes the one-libvirtd lock, waiting up to waitMs for another test's
 * libvirtd to finish; a lock whose test and libvirtd are both gone is stale.
 */
export async function takeLock(info: LockInfo, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  let said = false;
  for (;;) {
    if (tryCreateLock(info)) return;
    const holder = lockHolder();
    if (!holder) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (holder.orphanFix) {
      throw new Error(
        `a libvirtd left by a system test that died is still running (${holder.what}, netns ${holder.held.ns}); ` +
          `it is not ours to kill: check it and run \`${holder.orphanFix}\``,
      );
    }
    if (Date.now() >= until) {
      throw new Error(
        `another system test's libvirtd is running (${holder.what}, netns ${holder.held.ns}); the system tier runs ` +
          `one libvirtd at a time: wait for it to finish, or stop that test and remove ${lockPath}`,
      );
    }
    if (!said) process.stderr.write(`waiting for another system test's libvirtd (${holder.what}, netns ${holder.held.ns})\n`);
    said = true;
    await sleep(500);
  }
}

export function releaseLock(owner: number): void {
  try {
    const held = JSON.parse(readFileSync(lockPath, 'utf8')) as LockInfo;
    if (held.owner === owner) unlinkSync(lockPath);
  } catch {
    // already gone
  }
}

function updateLock(info: LockInfo): void {
  const tmp = `${lockPath}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
  renameSync(tmp, lockPath);
}

export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Copies of /etc/passwd and /etc/group with the user and groups libvirt's qemu
 * driver looks up at start (libvirt-qemu, kvm), or undefined when the machine has them.
 */
export function identityFiles(root: string): { passwd: string; group: string } | undefined {
  let passwd = readFileSync('/etc/passwd', 'utf8');
  let group = readFileSync('/etc/group', 'utf8');
  const has = (db: string, name: string): boolean => new RegExp(`^${name}:`, 'm').test(db);
  if (has(passwd, 'libvirt-qemu') && has(group, 'libvirt-qemu') && has(group, 'kvm')) return undefined;
  const free = (db: string): number => {
    const used = new Set(db.split('\n').map((l) => l.split(':')[2]));
    let id = 64055;
    while (used.has(String(id))) id--;
    return id;
  };
  if (!passwd.endsWith('\n')) passwd += '\n';
  if (!group.endsWith('\n')) group += '\n';
  for (const g of ['kvm', 'libvirt-qemu']) if (!has(group, g)) group += `${g}:x:${free(group)}:\n`;
  const gid = /^libvirt-qemu:[^:]*:(\d+):/m.exec(group)![1];
  if (!has(passwd, 'libvirt-qemu')) passwd += `libvirt-qemu:x:${free(passwd)}:${gid}::/var/lib/libvirt:/usr/sbin/nologin\n`;
  const files = { passwd: join(root, 'passwd'), group: join(root, 'group') };
  writeFileSync(files.passwd, passwd);
  writeFileSync(files.group, group);
  return files;
}

/**
 * Synchronous teardown of what a test run made (so it also runs from an exit
 * or signal handler): kills whatever still lives in its namespaces, deletes
 * them, removes the mount points it created (only when empty: someone else may
 * use one now) and its temporary root, and frees the one-libvirtd lock.
 */
export function removeThrowaway(o: { namespaces: readonly string[]; mountpoints: readonly string[]; root: string; lockOwner: number }): void {
  for (const ns of o.namespaces) {
    const left = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of left.split('\n').map(Number).filter((p) => p > 1)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
  for (const ns of o.namespaces) spawnSync('ip', ['netns', 'del', ns]);
  for (const dir of [...o.mountpoints].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty: someone else uses it now; leave it
    }
  }
  rmSync(o.root, { recursive: true, force: true });
  releaseLock(o.lockOwner);
}

/**
 * Runs onExit if the process exits or gets SIGINT/SIGTERM first (a killed test
 * never reaches t.after: leave no daemons behind). claim() is for the orderly
 * stop: true once, and the exit handlers are gone.
 */
export function exitGuard(onExit: () => void): { claim: () => boolean } {
  let done = false;
  const handler = (): void => {
    if (done) return;
    done = true;
    onExit();
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    handler();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', handler);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    claim: () => {
      if (done) return false;
      done = true;
      process.off('exit', handler);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      return true;
    },
  };
}

/**
 * Starts libvirtd and virtlogd in a fresh network namespace, hermetically (see
 * the top of this file). hooksDir: a folder libvirtd uses as /etc/libvirt/hooks
 * (default: an empty temporary one). waitMs: how long to wait for another
 * test's libvirtd to finish (default 5 min). Call stop() in t.after or finally.
 */
export async function startLibvirt(opts: { hooksDir?: string; waitMs?: number } = {}): Promise<Libvirt> {
  const ns = `vnet-sys-${randomBytes(4).toString('hex')}`;
  const lock: LockInfo = { owner: process.pid, ns, root: '' };
  await takeLock(lock, opts.waitMs ?? 300_000);
  let root: string;
  try {
    root = mkdtempSync(join(tmpdir(), 'vnet-sys-'));
    lock.root = root;
    updateLock(lock);
  } catch (e) {
    releaseLock(lock.owner);
    throw e;
  }

  const etcDir = join(root, 'etc');
  const hooksDir = opts.hooksDir ?? join(etcDir, 'hooks');
  const runDir = join(root, 'run');
  const logDir = join(root, 'log');
  const stateDir = join(root, 'run-vnet-virt');
  // QEMU capabilities probed once are reused (libvirt re-probes when qemu or libvirt changes): saves seconds per start.
  const cacheDir = existsSync(join(repoRoot, '.guest')) ? join(repoRoot, '.guest', 'libvirt-cache') : join(root, 'cache');
  const binds: [string, string][] = [
    [etcDir, '/etc/libvirt'],
    ...(opts.hooksDir ? [[opts.hooksDir, '/etc/libvirt/hooks'] as [string, string]] : []),
    [runDir, '/run/libvirt'],
    // The hook's journals (libvirtd gives hooks a clean environment, so VNET_VIRT_STATE_DIR does not reach them).
    [stateDir, '/run/vnet-virt'],
    [join(root, 'lib'), '/var/lib/libvirt'],
    [cacheDir, '/var/cache/libvirt'],
    [logDir, '/var/log/libvirt'],
  ];
  const createdMountpoints: string[] = [];
  const uri = `qemu+unix:///system?socket=${runDir}/libvirt-sock`;

  const virsh = (...args: string[]): Promise<RunResult> => run(['virsh', ...VIRSH, '-c', uri, ...args], { timeoutMs: 120_000 });

  const logs = (domain?: string): string => daemonLogs(logDir, domain);

  const stopDaemon = async (pidFile: string, comm: string): Promise<void> => {
    const pid = readPid(pidFile);
    if (pid === undefined || !processAlive(pid, comm)) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && processAlive(pid, comm); i++) await sleep(100);
    if (processAlive(pid, comm)) process.kill(pid, 'SIGKILL');
  };

  const killDaemonsNow = (): void => {
    for (const [file, comm] of [['libvirtd.pid', 'libvirtd'], ['virtlogd.pid', 'virtlogd']] as const) {
      const pid = readPid(join(root, file));
      if (pid !== undefined && processAlive(pid, comm)) process.kill(pid, 'SIGKILL');
    }
  };

  // Synchronous, so it also runs from an exit or signal handler.
  const teardown = (): void => {
    // Whatever still lives in our throwaway netns was started by our daemons (a QEMU left by a failed destroy).
    removeThrowaway({ namespaces: [ns], mountpoints: createdMountpoints, root, lockOwner: lock.owner });
  };

  const guard = exitGuard(() => {
    killDaemonsNow();
    teardown();
  });

  const stop = async (): Promise<void> => {
    if (!guard.claim()) return;
    try {
      if (readPid(join(root, 'libvirtd.pid')) !== undefined) {
        const list = await virsh('list', '--all', '--name');
        for (const name of list.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
          await virsh('destroy', name);
          await virsh('undefine', name);
        }
      }
      await Promise.all([stopDaemon(join(root, 'libvirtd.pid'), 'libvirtd'), stopDaemon(join(root, 'virtlogd.pid'), 'virtlogd')]);
    } finally {
      killDaemonsNow();
      teardown();
    }
  };

  try {
    for (const d of [etcDir, join(etcDir, 'hooks'), hooksDir, runDir, stateDir, join(root, 'lib', 'qemu'), join(cacheDir, 'qemu'), join(logDir, 'qemu')]) {
      mkdirSync(d, { recursive: true });
    }
    writeFileSync(join(etcDir, 'qemu.conf'), QEMU_CONF);
    writeFileSync(join(etcDir, 'libvirtd.conf'), LIBVIRTD_CONF);
    // Bind mounts need their mountpoints: create libvirt's own folders if the package left them out, removed in stop().
    for (const [, target] of binds) {
      if (target.startsWith('/etc/')) continue;
      if (!existsSync(target)) {
        mkdirSync(target, { recursive: true });
        createdMountpoints.push(target);
      }
    }
    const ids = identityFiles(root);
    if (ids) binds.push([ids.passwd, '/etc/passwd'], [ids.group, '/etc/group']);

    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const script = [
      'set -e',
      ...binds.map(([src, dst]) => `mount --bind ${shq(src)} ${shq(dst)}`),
      `ip netns exec ${shq(ns)} virtlogd -d -p ${shq(join(root, 'virtlogd.pid'))}`,
      `ip netns exec ${shq(ns)} libvirtd -d -p ${shq(join(root, 'libvirtd.pid'))}`,
    ].join('\n');
    const r = await run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', script], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`starting libvirtd failed (exit ${r.code}): ${r.stderr.trim()}`);
    lock.libvirtdPid = readPid(join(root, 'libvirtd.pid'));
    updateLock(lock);

    const until = Date.now() + 30_000;
    let last: RunResult | undefined;
    while (Date.now() < until) {
      last = await virsh('version');
      if (last.code === 0) break;
      if (!processAlive(lock.libvirtdPid ?? 0, 'libvirtd')) throw new Error('libvirtd exited during start-up');
      await sleep(100);
    }
    if (!last || last.code !== 0) {
      throw new Error(`libvirtd did not answer within 30 s: ${last?.stderr.trim()}`);
    }
  } catch (e) {
    const detail = logs();
    await stop();
    throw new Error(`${(e as Error).message}\n${detail}`);
  }

  const reload = async (): Promise<void> => {
    const pid = readPid(join(root, 'libvirtd.pid'));
    if (pid === undefined || !processAlive(pid, 'libvirtd')) throw new Error('libvirtd is not running');
    process.kill(pid, 'SIGHUP');
    await sleep(200);
    for (let i = 0; i < 100; i++) {
      if ((await virsh('version')).code === 0) return;
      await sleep(100);
    }
    throw new Error(`libvirtd did not answer after SIGHUP\n${logs()}`);
  };

  return { ns, hooksDir, runDir, logDir, stateDir, uri, virsh, logs, reload, stop };
}
