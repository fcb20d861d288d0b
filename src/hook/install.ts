// hook install / uninstall / status: which files go where in the hooks
// directory, and never a foreign file touched without --force.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** Running libvirt daemons that run qemu hooks, by /proc/PID/comm. */
export function runningDaemons(): { name: string; pid: number }[] {
  const out: { name: string; pid: number }[] = [];
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

export const defaultEntry = (): string => fileURLToPath(new URL('./entry.js', import.meta.url));

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

function reloadAdvice(hooksDir: string, others: string[]): string {
  const daemons = runningDaemons();
  if (!daemons.length) return 'no libvirtd or virtqemud is running: libvirt finds the hook when it starts';
  const d = daemons[0]!;
  const names = daemons.map((x) => `${x.name} (pid ${x.pid})`).join(', ');
  const reload = `\`kill -HUP ${d.pid}\` (or \`systemctl reload ${d.name}\`)`;
  if (others.length)
    return `${names} is running; ${hooksDir} already had a qemu hook (${others.join(', ')}), so a daemon started after it runs this one at the next VM start; if in doubt, run ${reload}`;
  return `${names} is running and looks for qemu hooks only at start and on SIGHUP: run ${reload} or restart it before the next VM start`;
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
  const version = opts.libvirtVersion ?? detectLibvirtVersion();
  const script = hookScript({
    node: opts.node ?? process.execPath,
    entry: opts.entry ?? defaultEntry(),
    settings,
    configFile: opts.configFile,
  });
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
  lines.push(reloadAdvice(opts.hooksDir, others));
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
  files: { path: string; state: FileState; runs?: string | undefined; env?: Record<string, string> }[];
  installed: boolean;
}

export function status(hooksDir: string): HookStatus {
  const p = paths(hooksDir);
  const files = [p.dropIn, p.qemu, p.chained].map((path) => {
    const state = fileState(path, p.chained);
    if (state !== 'ours') return { path, state };
    const s = readScript(readFileSync(path, 'utf8'));
    return { path, state, runs: s.node && s.entry ? `${s.node} ${s.entry}` : undefined, env: s.env };
  });
  const installed = files.some((f) => f.state === 'ours' && f.path !== p.chained) || (fileState(p.qemu, p.chained) === 'foreign-chaining-ours' && existsSync(p.chained));
  return { hooksDir, files, installed };
}

export function statusLines(hooksDir: string): string[] {
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
    if (f.state === 'ours' && f.runs && !existsSync(f.runs.split(' ').pop()!)) lines.push(`    warning: ${f.runs.split(' ').pop()} does not exist (reinstall)`);
    if (f.env) baked = { ...baked, ...f.env };
  }
  lines.push(st.installed ? 'hook: installed' : 'hook: not installed');
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
  return lines;
}
