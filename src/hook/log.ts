// The hook's log: one line per action, appended to a file or sent to syslog,
// never stdout (libvirt ignores a hook's stdout; stderr is for the one failure line).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

/** The `log` setting that sends the lines to syslog instead of a file. */
export const SYSLOG = 'syslog';

export interface HookLog {
  (message: string): void;
  close(): void;
}

export function formatLogLine(time: Date, domain: string, operation: string, message: string): string {
  return `${time.toISOString()} ${domain} ${operation} [${process.pid}] ${message.replace(/\s*\n\s*/g, ' ')}\n`;
}

/**
 * Appends through one O_APPEND descriptor, one write per line, so lines of
 * hooks running at the same time never mix. A log that cannot be opened does
 * not fail the VM start: `warn` is told once.
 */
export function openHookLog(file: string | undefined, domain: string, operation: string, warn: (s: string) => void): HookLog {
  if (file === SYSLOG) return syslogLog(domain, operation, warn);
  let fd: number | undefined;
  if (file) {
    try {
      fd = openSync(file, 'a', 0o640);
    } catch (e) {
      warn(`vnet-virt: ${domain}: cannot open the hook log ${file}: ${(e as Error).message}\n`);
    }
  }
  const log = ((message: string) => {
    if (fd === undefined) return;
    try {
      writeSync(fd, formatLogLine(new Date(), domain, operation, message));
    } catch {
      // A full disk must not fail the VM start.
    }
  }) as HookLog;
  log.close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return log;
}

/** A log that writes to a stream (hook replay shows its log on stderr). */
export function streamLog(write: (s: string) => void, domain: string, operation: string): HookLog {
  const log = ((message: string) => write(formatLogLine(new Date(), domain, operation, message))) as HookLog;
  log.close = () => {};
  return log;
}

/**
 * Lines kept in memory and handed to util-linux logger(1) in one process when
 * the call ends (the time limit bounds that): no process per line, and none
 * for calls that log nothing.
 */
function syslogLog(domain: string, operation: string, warn: (s: string) => void): HookLog {
  let lines = '';
  const log = ((message: string) => {
    lines += formatLogLine(new Date(), domain, operation, message);
  }) as HookLog;
  log.close = () => {
    if (!lines) return;
    const r = spawnSync('logger', ['--tag', 'vnet-virt-hook', '--priority', 'daemon.info'], { input: lines, stdio: ['pipe', 'ignore', 'pipe'], timeout: 2000 });
    if (r.status !== 0) warn(`vnet-virt: ${domain}: logger(1) could not send the hook log to syslog: ${r.error?.message ?? r.stderr.toString().trim()}\n`);
    lines = '';
  };
  return log;
}
