// hook install / uninstall / status: which files go where in the hooks
// directory, and never a foreign file touched without --force.
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VnetError, ExitCode } from '../errors.js';
import { chainLine, hookScript, isOurs, readScript } from './script.js';
import { CONFIG_ENV, envName, loadSettings } from './settings.js';
import type { SettingKey } from './settings.js';

export const DEFAULT_HOOKS_DIR = '/etc/libvirt/hooks';
/** libvirt 6.5 added DIR/qemu.d/: every executable there runs, in name order. */
const QEMU_D_SINCE: readonly [number, number] = [6, 5];

export const paths = (hooksDir: string) => ({
  dropIn: join(hooksDir, 'qemu.d', 'vnet-virt'),
  qemu: join(hooksDir, 'qemu'),
  /** For an old libvirt with a foreign DIR/qemu: our script, which that file must call. */
  chained: join(hooksDir, 'vnet-virt-qemu'),
});

export interface InstallOptions {
  hooksDir: string;
  force?: boolean | undefined;
  /** e.g. "9.0.0"; default: asked of `libvirtd --version` (or virtqemud). */
  libvirtVersion?: string | undefined;
  node?: string | undefined;
  entry?: string | undefined;
  settings?: Partial<Record<SettingKey, string>> | undefined;
  configFile?: string | undefined;
  /** Install even when node or the entry lives in a temporary folder (--force does too). */
  allowTemporary?: boolean | undefined;
  /** SIGHUP the running daemons that use hooksDir, so that the next VM start runs the hook. */
  reload?: boolean | undefined;
}

export type FileState = 'absent' | 'ours' | 'foreign' | 'foreign-chaining-ours';

const installError = (message: string, file: string, hint: string): VnetError =>
  new VnetError(message, { code: 'E_HOOK_FOREIGN', exitCode: ExitCode.invalidInput, file, hint });

export function fileState(path: string, chainTarget?: string): FileState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw e;
  }
  if (isOurs(text)) return 'ours';
  return chainTarget && text.includes(chainTarget) ? 'foreign-chaining-ours' : 'foreign';
}

export function parseVersion(text: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function detectLibvirtVersion(): string | undefined {
  for (const daemon of ['libvirtd', 'virtqemud']) {
    const r = spawnSync(daemon, ['--version'], { encoding: 'utf8', timeout: 5000 });
    const v = r.status === 0 ? parseVersion(r.stdout) : undefined;
    if (v) return v.join('.');
  }
  return undefined;
}

export const hasQemuD = (version: string | undefined): boolean => {
  const v = version ? parseVersion(version) : undefined;
  return !v || v[0] > QEMU_D_SINCE[0] || (v[0] === QEMU_D_SINCE[0] && v[1] >= QEMU_D_SINCE[1]);
};

export interface Daemon {
  name: string;
  pid: number;
}

/** Running libvirt daemons that run qemu hooks, by /proc/PID/comm. */
export function runningDaemons(): Daemon[] {
  const out: Daemon[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (name === 'libvirtd' || name === 'virtqemud') out.push({ name, pid: Number(pid) });
    } catch {
      // Gone meanwhile.
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/**
 * The one-file bundle of the hook (`npm run build` makes it: much less to
 * load), else the plain entry; also when the bundle is older than the
 * compiled entry (a bare `tsc` since), as it would run stale code.
 */
export function defaultEntry(): string {
  const entry = fileURLToPath(new URL('./entry.js', import.meta.url));
  const bundle = fileURLToPath(new URL('./hook.bundle.cjs', import.meta.url));
  try {
    return statSync(bundle).mtimeMs >= statSync(entry).mtimeMs ? bundle : entry;
  } catch {
    return entry;
  }
}

/**
 * Why a path is no place for the hook to run from: a temporary folder or a
 * one-off package cache (npx, pnpm dlx) is emptied without notice, and then
 * every start of a VM with vnet-virt's record fails. Undefined: a lasting place.
 */
export function temporaryLocation(path: string, tmp = tmpdir()): string | undefined {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // Judge the path as given.
  }
  for (const p of new Set([path, real])) {
    for (const dir of new Set([tmp, '/tmp', '/var/tmp', '/dev/shm'].map((d) => d.replace(/\/+$/, '')))) {
      if (p.startsWith(`${dir}/`)) return `under ${dir}, a temporary folder`;
    }
    if (/\/_npx\//.test(p)) return "in npx's cache";
    if (/\/dlx[-/]/.test(p)) return "in a package runner's cache (dlx)";
  }
  return undefined;
}

/** What an installed script needs and lacks (node, the entry), or undefined when it can run. */
export function brokenBecause(node: string | undefined, entry: string | undefined): string | undefined {
  if (!node || !entry) return 'the script does not name node and the hook entry';
  try {
    accessSync(node, constants.X_OK);
  } catch {
    return `node ${node} is missing`;
  }
  if (!existsSync(entry)) return `the hook entry ${entry} is missing`;
  return undefined;
}

/**
 * Written whole, then renamed into place. The temporary file sits in the hooks
 * directory itself, hidden: libvirt runs every executable in qemu.d/, so one
 * left there by a crash would run as a second hook.
 */
function writeExecutable(hooksDir: string, path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = join(hooksDir, `.vnet-virt-tmp-${process.pid}`);
  try {
    writeFileSync(tmp, text, { mode: 0o755 });
    chmodSync(tmp, 0o755);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Other executables libvirt would run for qemu (so it already looks in the directory). */
function otherQemuHooks(hooksDir: string): string[] {
  const p = paths(hooksDir);
  const found: string[] = [];
  const executable = (f: string): boolean => {
    try {
      const s = statSync(f);
      return s.isFile() && (s.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  };
  if (executable(p.qemu) && fileState(p.qemu) !== 'ours') found.push(p.qemu);
  try {
    for (const name of readdirSync(join(hooksDir, 'qemu.d')).sort()) {
      const f = join(hooksDir, 'qemu.d', name);
      if (f !== p.dropIn && executable(f)) found.push(f);
    }
  } catch {
    // No qemu.d.
  }
  return found;
}

const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The running daemons whose /etc/libvirt/hooks is hooksDir. Each is judged
 * from inside its own mount namespace (through /proc/PID/root), so a daemon
 * that sees another folder there (a container, a private bind mount) is not
 * taken for one that uses hooksDir, and one that sees hooksDir under another
 * name is found.
 */
export function daemonsUsing(hooksDir: string): { using: Daemon[]; other: Daemon[] } {
  const daemons = runningDaemons();
  let want: { dev: number; ino: number };
  try {
    want = statSync(hooksDir);
  } catch {
    return { using: [], other: daemons };
  }
  const using: Daemon[] = [];
  const other: Daemon[] = [];
  for (const d of daemons) {
    try {
      const st = statSync(`/proc/${d.pid}/root${DEFAULT_HOOKS_DIR}`);
      (st.dev === want.dev && st.ino === want.ino ? using : other).push(d);
    } catch {
      other.push(d);
    }
  }
  return { using, other };
}

/** True once the daemon has taken a pending SIGHUP (bit 1 of SigPnd/ShdPnd clear); false after waitMs. */
function hupTaken(pid: number, waitMs: number): boolean {
  const until = Date.now() + waitMs;
  for (;;) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return false;
    }
    const pending = [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].some((m) => (parseInt(m[1]!.slice(-1), 16) & 1) !== 0);
    if (!pending) return true;
    if (Date.now() > until) return false;
    sleepSync(10);
  }
}

/** SIGHUP the daemons that use hooksDir: libvirt looks for hooks again (in a thread of its own, at once). */
function reloadDaemons(hooksDir: string): string[] {
  const { using, other } = daemonsUsing(hooksDir);
  const names = (ds: Daemon[]): string => ds.map((d) => `${d.name} (pid ${d.pid})`).join(', ');
  if (!using.length) {
    if (!other.length) return ['no libvirtd or virtqemud is running: libvirt finds the hook when it starts'];
    return [
      `no running libvirt daemon uses ${hooksDir} (${names(other)} ${other.length === 1 ? 'uses' : 'use'} another hooks folder): ` +
        'the daemon that uses it finds the hook when it starts, or send it SIGHUP (systemctl reload libvirtd or virtqemud)',
    ];
  }
  const failed: string[] = [];
  const lines: string[] = [];
  for (const d of using) {
    try {
      process.kill(d.pid, 'SIGHUP');
    } catch (e) {
      failed.push(`${d.name} (pid ${d.pid}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      continue;
    }
    if (!hupTaken(d.pid, 2000)) failed.push(`${d.name} (pid ${d.pid}) did not take the signal within 2 s`);
    else lines.push(`reloaded ${d.name} (pid ${d.pid}) with SIGHUP: the hook runs from the next VM start`);
  }
  // The reload itself runs in a thread of the daemon's own; give it a moment to look at the folder again.
  if (lines.length) sleepSync(100);
  if (failed.length)
    throw new VnetError(`installed, but the reload failed: ${failed.join('; ')}`, {
      code: 'E_HOOK_RELOAD',
      exitCode: ExitCode.hostFailedUndone,
      where: '--reload',
      hint: 'run systemctl reload libvirtd (or virtqemud), or restart it, before the next VM start',
    });
  return lines;
}

function reloadAdvice(hooksDir: string, others: string[]): string {
  const { using, other } = daemonsUsing(hooksDir);
  const daemons = using.length ? using : other;
  if (!daemons.length) return 'no libvirtd or virtqemud is running: libvirt finds the hook when it starts';
  const d = daemons[0]!;
  const names = daemons.map((x) => `${x.name} (pid ${x.pid})`).join(', ');
  const reload = `\`vnet-virt hook install --reload\`, \`kill -HUP ${d.pid}\` or \`systemctl reload ${d.name}\``;
  if (others.length)
    return `${names} is running; ${hooksDir} already had a qemu hook (${others.join(', ')}), so a daemon started after it runs this one at the next VM start; if in doubt, run ${reload}`;
  return `${names} is running and looks for qemu hooks only at start and on SIGHUP: run ${reload}, or restart it, before the next VM start`;
}

export function install(opts: InstallOptions): string[] {
  const settings = opts.settings ?? {};
  // A bad value fails here, not at the next VM start.
  const env: Record<string, string | undefined> = { [CONFIG_ENV]: opts.configFile ?? '/nonexistent/vnet-virt-hook.conf' };
  for (const [k, v] of Object.entries(settings)) env[envName(k as SettingKey)] = v;
  try {
    loadSettings(env);
  } catch (e) {
    if (!(e instanceof VnetError) || !e.where?.startsWith('VNET_VIRT_HOOK_')) throw e;
    const key = e.where.slice('VNET_VIRT_HOOK_'.length).toLowerCase().replace(/_/g, '-');
    throw new VnetError(e.message, { code: e.code, exitCode: e.exitCode, where: `--${key}`, hint: 'give a valid value' });
  }

  const p = paths(opts.hooksDir);
  const node = opts.node ?? process.execPath;
  const entry = opts.entry ?? defaultEntry();
  if (!opts.force && !opts.allowTemporary) {
    for (const [what, path] of [['node', node], ['the hook entry', entry]] as const) {
      const why = temporaryLocation(path);
      if (why)
        throw new VnetError(`${what} is ${why}; once it is cleared, every start of a VM with vnet-virt's record fails`, {
          code: 'E_HOOK_TEMPORARY',
          exitCode: ExitCode.invalidInput,
          file: path,
          hint: 'install vnet-virt for good (npm install -g vnet-virt) and run its hook install, or pass --force',
        });
    }
  }
  const version = opts.libvirtVersion ?? detectLibvirtVersion();
  const script = hookScript({ node, entry, settings, configFile: opts.configFile });
  const others = otherQemuHooks(opts.hooksDir);
  const lines: string[] = [];
  const versionNote = version ? `libvirt ${version}` : 'libvirt version unknown (no libvirtd --version), assuming 6.5 or later';

  if (hasQemuD(version)) {
    const state = fileState(p.dropIn);
    if (state !== 'absent' && state !== 'ours' && !opts.force)
      throw installError('exists and was not written by vnet-virt', p.dropIn, 'move it away, or pass --force to overwrite it');
    writeExecutable(opts.hooksDir, p.dropIn, script);
    lines.push(`installed ${p.dropIn} (${versionNote}: runs every executable in qemu.d/)`);
    // An old install of ours as DIR/qemu would run the hook a second time.
    if (fileState(p.qemu) === 'ours') {
      rmSync(p.qemu);
      lines.push(`removed ${p.qemu} (an older vnet-virt install; qemu.d/vnet-virt replaces it)`);
    }
    if (fileState(p.chained) === 'ours') rmSync(p.chained);
    if (fileState(p.qemu, p.chained) === 'foreign-chaining-ours')
      lines.push(`note: ${p.qemu} still calls ${p.chained}; remove that line, qemu.d/vnet-virt replaces it`);
  } else {
    const state = fileState(p.qemu);
    if (state === 'absent' || state === 'ours' || opts.force) {
      writeExecutable(opts.hooksDir, p.qemu, script);
      lines.push(`installed ${p.qemu} (${versionNote}: older than 6.5, runs only ${p.qemu})`);
    } else {
      writeExecutable(opts.hooksDir, p.chained, script);
      lines.push(`installed ${p.chained} (${versionNote}: older than 6.5, runs only ${p.qemu}, which is not ours)`);
      if (fileState(p.qemu, p.chained) === 'foreign-chaining-ours') lines.push(`${p.qemu} already calls it`);
      else
        lines.push(
          `add this line to ${p.qemu}, before anything in it reads stdin (the hook needs the domain XML):`,
          `    ${chainLine(p.chained)}`,
        );
    }
  }
  lines.push(...(opts.reload ? reloadDaemons(opts.hooksDir) : [reloadAdvice(opts.hooksDir, others)]));
  return lines;
}

export function uninstall(hooksDir: string): string[] {
  const p = paths(hooksDir);
  const lines: string[] = [];
  for (const f of [p.dropIn, p.qemu, p.chained]) {
    const state = fileState(f, p.chained);
    if (state === 'ours') {
      rmSync(f);
      lines.push(`removed ${f}`);
    } else if (state === 'foreign-chaining-ours') {
      lines.push(`left ${f} (not ours); remove the line that calls ${p.chained} from it`);
    } else if (state === 'foreign' && f !== p.qemu) {
      lines.push(`left ${f} (not written by vnet-virt)`);
    }
  }
  if (!lines.some((l) => l.startsWith('removed'))) lines.unshift(`nothing of vnet-virt's installed in ${hooksDir}`);
  return lines;
}

export interface HookStatus {
  hooksDir: string;
  files: { path: string; state: FileState; runs?: string | undefined; env?: Record<string, string>; broken?: string | undefined }[];
  installed: boolean;
  /** Why an installed hook cannot run (node or the entry gone), or undefined. */
  broken: string | undefined;
}

export function status(hooksDir: string): HookStatus {
  const p = paths(hooksDir);
  const files = [p.dropIn, p.qemu, p.chained].map((path) => {
    const state = fileState(path, p.chained);
    if (state !== 'ours') return { path, state };
    const s = readScript(readFileSync(path, 'utf8'));
    return { path, state, runs: s.node && s.entry ? `${s.node} ${s.entry}` : undefined, env: s.env, broken: brokenBecause(s.node, s.entry) };
  });
  const installed = files.some((f) => f.state === 'ours' && f.path !== p.chained) || (fileState(p.qemu, p.chained) === 'foreign-chaining-ours' && existsSync(p.chained));
  const broken = files.find((f) => f.broken)?.broken;
  return { hooksDir, files, installed, broken };
}

/** What `hook status` prints; broken: the installed hook cannot run (the command then exits 3). */
export function statusLines(hooksDir: string): { lines: string[]; broken: boolean } {
  const st = status(hooksDir);
  const lines = [`hooks directory: ${hooksDir}`];
  const describe: Record<FileState, string> = {
    absent: 'absent',
    ours: 'installed by vnet-virt',
    foreign: 'present, not written by vnet-virt',
    'foreign-chaining-ours': 'present, not written by vnet-virt, calls the vnet-virt hook',
  };
  let baked: Record<string, string> = {};
  for (const f of st.files) {
    lines.push(`  ${f.path}: ${describe[f.state]}${f.runs ? `; runs ${f.runs}` : ''}`);
    if (f.broken) lines.push(`    broken: ${f.broken}: VMs with vnet-virt's record cannot start; run \`vnet-virt hook install\` again`);
    if (f.env) baked = { ...baked, ...f.env };
  }
  lines.push(st.broken ? 'hook: installed, broken' : st.installed ? 'hook: installed' : 'hook: not installed');
  try {
    // The daemon's environment is not ours: only what the script bakes in counts.
    const s = loadSettings(baked);
    const src = (k: SettingKey): string => `(${s.sources[k]})`;
    lines.push(
      `config file: ${s.configFile}${existsSync(s.configFile) ? '' : ' (absent)'}`,
      `timeout: ${s.timeoutMs / 1000} s ${src('timeout')}, grace ${s.graceMs / 1000} s ${src('grace')}`,
      `log: ${s.logFile ?? 'none'} ${src('log')}`,
      `netns: ${s.netns ?? 'the hook\'s own (libvirtd\'s)'} ${src('netns')}`,
      `create-bridge: ${s.createBridge ? 'yes' : 'no'} ${src('create-bridge')}, lock ${s.lockName} ${src('lock')}`,
    );
  } catch (e) {
    lines.push(`settings: invalid: ${e instanceof VnetError ? e.oneLine() : String(e)}`);
  }
  const daemons = runningDaemons();
  lines.push(`libvirt daemons running: ${daemons.length ? daemons.map((d) => `${d.name} (pid ${d.pid})`).join(', ') : 'none'}`);
  return { lines, broken: st.broken !== undefined };
}
