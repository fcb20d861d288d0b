// Fleet tier plumbing: simulated libvirt hosts on one machine.
//
// Each host is a network namespace plus a private mount namespace, held open
// by a long-lived process (mounts made inside one `ip netns exec` vanish when
// it ends). Inside it, temporary folders are bind-mounted over /etc/libvirt,
// /run/libvirt, /var/{lib,cache,log}/libvirt, /etc/vnet-virt, /run/sshd and
// /root and /usr/local/sbin (which holds a `vnet-virt` wrapper running this worktree's
// dist/), so every host has its own libvirt state, hook and settings while the
// machine's files stay untouched. A "switch" namespace holds a bridge that
// joins the hosts' br0 on 192.0.2.0/24 (the switch itself is 192.0.2.1).
// Hosts may run their own sshd (reached from a controller namespace with a key
// the fleet makes) and their own libvirtd + virtlogd (listening on TCP for
// migration). The fleet takes the system tier's one-libvirtd lock for its whole
// life, so it never overlaps another system test.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { run, type RunResult } from '../../src/host/run.js';
import { cliPath, isRoot, repoRoot, requireOrSkip, runCli } from '../helpers.js';
import {
  LIBVIRTD_CONF, QEMU_CONF, VIRSH, daemonLogs, exitGuard, identityFiles, processAlive, readPid, removeThrowaway, requireSystem, shq, takeLock, type LockInfo,
} from '../system/harness.js';

export const SWITCH_IP = '192.0.2.1';
export const CONTROLLER_IP = '192.0.2.100';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface HostSpec {
  name: string;
  /** Run libvirtd + virtlogd (TCP listener for migration). */
  libvirt?: boolean;
  /** Run sshd for the controller. */
  ssh?: boolean;
  /** The bridge joined to the switch (default br0). */
  bridge?: string;
  /** `vnet-virt hook install` options: the hook is installed before libvirtd starts. */
  hook?: string[];
}

export interface SimHost {
  name: string;
  ns: string;
  ip: string;
  bridge: string;
  /** The process holding the mount namespace (nsenter -t PID -m -n reaches the host). */
  holder: number;
  /** Temporary folder of this host; its subfolders are what the host sees as its libvirt and vnet-virt folders. */
  root: string;
  /** What the host sees as /etc/libvirt/hooks, /etc/vnet-virt and /var/log/libvirt. */
  hooksDir: string;
  vnetEtc: string;
  logDir: string;
  /** libvirt URI for virsh from the machine (unix socket), and for other hosts (TCP). */
  uri?: string;
  tcpUri?: string;
  /** A command inside the host (its network and mount namespace). */
  exec(argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  virsh(...args: string[]): Promise<RunResult>;
  /** libvirtd's log and a domain's QEMU log, for assertion messages. */
  logs(domain?: string): string;
}

export interface Fleet {
  root: string;
  switchNs: string;
  hosts: SimHost[];
  /** Only with ssh hosts. */
  controllerNs?: string;
  inventory?: string;
  /** ansible-playbook in the controller namespace; extra env on top of the fleet's. */
  playbook(args: string[], env?: Record<string, string>): Promise<RunResult & { ms: number }>;
  stop(): Promise<void>;
}

/** Gate: the system tier's needs, plus sshd and ansible-playbook when ssh hosts are asked for. */
export function requireFleet(t: TestContext, opts: { ssh: boolean; guest?: boolean }): boolean {
  if (!requireSystem(t, { guest: opts.guest ?? true })) return false;
  if (!opts.ssh) return true;
  const missing = ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/ansible-playbook', '/usr/bin/python3'].filter((p) => !existsSync(p));
  return requireOrSkip(t, isRoot() && missing.length === 0, `fleet tier needs ${missing.join(', ')}: run scripts/install-deps.sh`);
}

const sshdConfig = (root: string, ip: string): string => `# written by vnet-virt's fleet tests (private to one simulated host)
ListenAddress ${ip}
Port 22
HostKey ${root}/ssh_host_ed25519_key
PidFile ${root}/sshd.pid
AuthorizedKeysFile ${root}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv LC_ALL=C.UTF-8
Subsystem sftp internal-sftp
`;

/**
 * Moves the namespace's interface index counter up by about `count`: the kernel
 * names a macvtap's character device /dev/tap<ifindex>, /dev is shared and
 * ifindexes are counted per namespace, so two hosts (or another test) with the
 * same numbering would open each other's macvtaps.
 */
function bumpIfindex(ns: string, count: number): void {
  const group = 4000 + Math.floor(Math.random() * 1000);
  const lines: string[] = [];
  for (let i = 0; i < Math.ceil(count / 2); i++) lines.push(`link add zb${i} group ${group} type veth peer name zc${i} group ${group}`);
  execFileSync('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });
  execFileSync('ip', ['-n', ns, 'link', 'del', 'group', String(group)]);
}

/** Starts the switch, the hosts (in parallel where it counts) and, with ssh hosts, the controller. */
export async function startFleet(specs: HostSpec[], opts: { waitMs?: number } = {}): Promise<Fleet> {
  const tag = randomBytes(3).toString('hex');
  const lock: LockInfo = { owner: process.pid, ns: `vnet-fl-${tag}`, root: '' };
  // Long: on a shared machine other tests' libvirtds come and go (in CI the tier runs alone).
  await takeLock(lock, opts.waitMs ?? 900_000);
  const root = mkdtempSync(join(tmpdir(), 'vnet-fleet-'));
  const switchNs = `vnet-fsw-${tag}`;
  const namespaces: string[] = [];
  const holders: ChildProcess[] = [];
  const createdMountpoints: string[] = [];
  const hosts: SimHost[] = [];
  let controllerNs: string | undefined;
  let inventory: string | undefined;

  const teardown = (): void => {
    for (const h of holders) if (h.exitCode === null) h.kill('SIGKILL');
    removeThrowaway({ namespaces, mountpoints: createdMountpoints, root, lockOwner: lock.owner });
  };
  const guard = exitGuard(teardown);

  const stop = async (): Promise<void> => {
    if (!guard.claim()) return;
    try {
      await Promise.all(hosts.filter((h) => h.uri).map(async (h) => {
        const list = await h.virsh('list', '--all', '--name');
        for (const name of list.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
          await h.virsh('destroy', name);
          await h.virsh('undefine', name);
        }
        for (const f of ['libvirtd.pid', 'virtlogd.pid']) {
          const pid = readPid(join(h.root, f));
          if (pid !== undefined && processAlive(pid, f.replace('.pid', ''))) process.kill(pid, 'SIGTERM');
        }
      }));
      await sleep(300);
    } finally {
      teardown();
    }
  };

  try {
    lock.root = root;
    const addNs = (ns: string): void => {
      execFileSync('ip', ['netns', 'add', ns]);
      namespaces.push(ns);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    };
    addNs(switchNs);
    execFileSync('ip', ['-n', switchNs, 'link', 'add', 'sw0', 'type', 'bridge']);
    execFileSync('ip', ['-n', switchNs, 'addr', 'add', `${SWITCH_IP}/24`, 'dev', 'sw0']);
    execFileSync('ip', ['-n', switchNs, 'link', 'set', 'sw0', 'up']);
    const plug = (ns: string, port: string, inside: string): void => {
      execFileSync('ip', ['-n', switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', inside, 'netns', ns]);
      execFileSync('ip', ['-n', switchNs, 'link', 'set', port, 'master', 'sw0', 'up']);
    };

    const anySsh = specs.some((s) => s.ssh);
    const key = join(root, 'id_ed25519');
    if (anySsh) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `vnet-fleet-${tag}`, '-f', key]);
    // Mountpoints the binds need; created only when the machine lacks them, removed at the end.
    for (const dir of ['/run/libvirt', '/var/lib/libvirt', '/var/cache/libvirt', '/var/log/libvirt', '/etc/libvirt', '/etc/vnet-virt', '/run/vnet-virt', '/run/sshd', '/usr/local/sbin']) {
      if (!existsSync(dir)) {
        mkdirSync(dir, { recursive: true });
        createdMountpoints.push(dir);
      }
    }
    const cache = join(repoRoot, '.guest', 'libvirt-cache');

    await Promise.all(specs.map(async (spec, i) => {
      const ns = `vnet-f${i}-${tag}`;
      const ip = `192.0.2.${11 + i}`;
      const bridge = spec.bridge ?? 'br0';
      const hroot = join(root, spec.name);
      const d = (s: string): string => join(hroot, s);
      for (const s of ['etc-libvirt/hooks', 'run-libvirt', 'lib-libvirt/qemu', 'cache-libvirt/qemu', 'log-libvirt/qemu', 'etc-vnet-virt', 'run-vnet-virt', 'run-sshd', 'sbin', 'home']) {
        mkdirSync(d(s), { recursive: true, mode: 0o755 });
      }
      chmodSync(d('run-sshd'), 0o755);
      chmodSync(d('home'), 0o700);
      if (spec.libvirt && existsSync(cache)) cpSync(cache, d('cache-libvirt'), { recursive: true });
      writeFileSync(d('etc-libvirt/qemu.conf'), QEMU_CONF + `migration_address = "${ip}"\nmigration_host = "${ip}"\n`);
      const hostUuid = [8, 4, 4, 4, 12].map((n) => randomBytes(n / 2).toString('hex')).join('-');
      writeFileSync(d('etc-libvirt/libvirtd.conf'), LIBVIRTD_CONF + `listen_tcp = 1\nlisten_tls = 0\nauth_tcp = "none"\nlisten_addr = "${ip}"\nhost_uuid = "${hostUuid}"\n`);
      writeFileSync(d('sbin/vnet-virt'), `#!/bin/sh\nexec ${shq(process.execPath)} ${shq(cliPath)} "$@"\n`, { mode: 0o755 });
      addNs(ns);
      if (spec.libvirt) bumpIfindex(ns, 1000 * (i + 1) + Math.floor(Math.random() * 800));
      plug(ns, `p${i}-${tag}`, 'up0');
      for (const a of [['link', 'add', bridge, 'type', 'bridge'], ['link', 'set', 'up0', 'master', bridge, 'up'], ['link', 'set', bridge, 'up'], ['addr', 'add', `${ip}/24`, 'dev', bridge]]) {
        execFileSync('ip', ['-n', ns, ...a]);
      }
      const binds: [string, string][] = [
        [d('etc-libvirt'), '/etc/libvirt'], [d('run-libvirt'), '/run/libvirt'], [d('lib-libvirt'), '/var/lib/libvirt'],
        [d('cache-libvirt'), '/var/cache/libvirt'], [d('log-libvirt'), '/var/log/libvirt'], [d('etc-vnet-virt'), '/etc/vnet-virt'],
        // The journals of runs in progress: each host has its own, and the machine's /run/vnet-virt is not touched.
        [d('run-vnet-virt'), '/run/vnet-virt'],
        [d('run-sshd'), '/run/sshd'], [d('sbin'), '/usr/local/sbin'],
        // root's home: the machine's dotfiles (a .bashrc that sshd's bash sources) stay out, Ansible's temp files stay in.
        [d('home'), '/root'],
      ];
      const ids = spec.libvirt ? identityFiles(hroot) : undefined;
      if (ids) binds.push([ids.passwd, '/etc/passwd'], [ids.group, '/etc/group']);
      if (spec.hook) {
        const r = runCli(['hook', 'install', '--hooks-dir', d('etc-libvirt/hooks'), ...spec.hook]);
        if (r.code !== 0) throw new Error(`hook install on ${spec.name}: ${r.stderr}`);
      }
      const lines = ['set -e', ...binds.map(([src, dst]) => `mount --bind ${shq(src)} ${shq(dst)}`)];
      if (spec.ssh) {
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', d('ssh_host_ed25519_key')]);
        writeFileSync(d('authorized_keys'), readFileSync(`${key}.pub`));
        writeFileSync(d('sshd_config'), sshdConfig(hroot, ip));
        lines.push(`/usr/sbin/sshd -f ${shq(d('sshd_config'))}`);
      }
      if (spec.libvirt) {
        lines.push(`virtlogd -d -p ${shq(d('virtlogd.pid'))}`, `libvirtd -d -l -p ${shq(d('libvirtd.pid'))}`);
      }
      lines.push('echo ready', 'exec sleep 100000');
      const holder = spawn('ip', ['netns', 'exec', ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', lines.join('\n')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      holders.push(holder);
      let said = '';
      holder.stderr!.setEncoding('utf8').on('data', (s: string) => (said += s));
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.setEncoding('utf8').on('data', (s: string) => s.includes('ready') && resolve());
        holder.on('exit', (code) => reject(new Error(`host ${spec.name} did not start (exit ${code}): ${said.trim()}`)));
      });
      const exec = (argv: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> =>
        run(['nsenter', '-t', String(holder.pid), '-m', '-n', ...argv], { input: o.input, timeoutMs: o.timeoutMs ?? 60_000 });
      const uri = spec.libvirt ? `qemu+unix:///system?socket=${d('run-libvirt')}/libvirt-sock` : undefined;
      const host: SimHost = {
        name: spec.name, ns, ip, bridge, holder: holder.pid!, root: hroot,
        hooksDir: d('etc-libvirt/hooks'), vnetEtc: d('etc-vnet-virt'), logDir: d('log-libvirt'),
        ...(uri ? { uri, tcpUri: `qemu+tcp://${ip}/system` } : {}),
        exec,
        virsh: (...args) => run(['virsh', ...VIRSH, '-c', uri ?? 'test:///default', ...args], { timeoutMs: 120_000 }),
        logs: (domain) => daemonLogs(d('log-libvirt'), domain, { label: spec.name, lines: 25 }),
      };
      hosts[i] = host;
      if (uri) {
        const until = Date.now() + 30_000;
        for (;;) {
          const v = await host.virsh('version');
          if (v.code === 0) break;
          if (Date.now() > until) throw new Error(`libvirtd on ${spec.name} did not answer: ${v.stderr.trim()}\n${host.logs()}`);
          await sleep(150);
        }
      }
    }));
    lock.libvirtdPid = hosts.map((h) => readPid(join(h.root, 'libvirtd.pid'))).find((p) => p !== undefined);

    if (anySsh) {
      controllerNs = `vnet-fctl-${tag}`;
      addNs(controllerNs);
      plug(controllerNs, `pc-${tag}`, 'eth0');
      execFileSync('ip', ['-n', controllerNs, 'addr', 'add', `${CONTROLLER_IP}/24`, 'dev', 'eth0']);
      execFileSync('ip', ['-n', controllerNs, 'link', 'set', 'eth0', 'up']);
      mkdirSync(join(root, 'ansible', 'cp'), { recursive: true });
      inventory = join(root, 'inventory.ini');
      writeFileSync(inventory, [
        '[libvirt_hosts]',
        ...specs.map((s, i) => (s.ssh ? `${s.name} ansible_host=${hosts[i]!.ip}` : '')).filter(Boolean),
        '',
        '[libvirt_hosts:vars]',
        'ansible_user=root',
        `ansible_ssh_private_key_file=${key}`,
        'ansible_python_interpreter=/usr/bin/python3',
        '',
      ].join('\n'));
      // Wait for every sshd to listen.
      for (const h of hosts.filter((_, i) => specs[i]!.ssh)) {
        const until = Date.now() + 15_000;
        while (!(await h.exec(['ss', '-Hltn', `sport = :22`])).stdout.includes(h.ip)) {
          if (Date.now() > until) throw new Error(`sshd on ${h.name} does not listen`);
          await sleep(100);
        }
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }

  const playbook = async (args: string[], env: Record<string, string> = {}): Promise<RunResult & { ms: number }> => {
    if (!controllerNs || !inventory) throw new Error('this fleet has no ssh hosts');
    const a = join(root, 'ansible');
    const vars: Record<string, string> = {
      LC_ALL: 'C.UTF-8',
      HOME: a,
      ANSIBLE_HOME: a,
      ANSIBLE_LOCAL_TEMP: join(a, 'tmp'),
      ANSIBLE_COLLECTIONS_PATH: join(repoRoot, 'ansible'),
      ANSIBLE_HOST_KEY_CHECKING: 'False',
      ANSIBLE_PIPELINING: 'True',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORKS: '5',
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
      ANSIBLE_SSH_CONTROL_PATH_DIR: join(a, 'cp'),
      ANSIBLE_SSH_ARGS: '-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no',
      ...env,
    };
    const t0 = Date.now();
    const r = await run(
      ['ip', 'netns', 'exec', controllerNs, 'env', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), 'ansible-playbook', '-i', inventory, ...args],
      { timeoutMs: 240_000 },
    );
    return { ...r, ms: Date.now() - t0 };
  };

  return { root, switchNs, hosts, ...(controllerNs ? { controllerNs } : {}), ...(inventory ? { inventory } : {}), playbook, stop };
}

/** PLAY RECAP counts per host: {h1: {ok, changed, unreachable, failed, ...}}. */
export function recap(stdout: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const at = stdout.lastIndexOf('PLAY RECAP');
  if (at < 0) return out;
  for (const line of stdout.slice(at).split('\n').slice(1)) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    out[m[1]!] = Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1]!, Number(x[2])]));
  }
  return out;
}
