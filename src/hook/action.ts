// The hook's work, loaded only for a domain that carries vnet-virt's record:
// prepare/begin -> up, release/end -> down, bounded by the time limit, logged.
// The XML is parsed and checked before the lock is taken: a huge or hostile
// domain fails on its own and never holds up another domain's start.
import { DomainDoc } from '../domain/doc.js';
import { recordEntries } from '../domain/record.js';
import { VnetError, ExitCode } from '../errors.js';
import { intentOf } from '../intent/intent.js';
import { batchLine, shellLine } from '../host/quote.js';
import { now, run, sameArgv } from '../host/run.js';
import type { Runner, RunResult } from '../host/run.js';
import { startEarly } from './early.js';
import { openHookLog } from './log.js';
import { scriptIpOf } from './script-ip.js';
import { loadSettings } from './settings.js';
import type { HookSettings } from './settings.js';
import type { EarlyProbe, HookIO, HookOverrides, HookRequest, HookResult } from './types.js';

export type { HookRequest };

/** Raised through the AbortSignal when the time limit passes. */
export class HookTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${formatSeconds(ms)}`);
    this.name = 'HookTimeout';
  }
}

const formatSeconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

/** The cause of a failure, the domain named by the caller, so stripped here. */
function causeOf(domain: string, e: unknown): string {
  let cause: string;
  if (e instanceof VnetError) cause = [...[e.file, e.where].filter((x) => x && x !== domain), e.message].join(': ');
  else cause = e instanceof Error ? e.message : String(e);
  cause = cause.replace(/\s*\n\s*/g, ' ').trim();
  while (cause.startsWith(`${domain}: `)) cause = cause.slice(domain.length + 2);
  return cause;
}

/**
 * `vnet-virt: <domain>: <cause> (interface <dev>)`: one line, the domain named
 * once, no hint (hints name CLI options; the log keeps them).
 */
export function failureLine(domain: string, e: unknown, timedOut?: HookTimeout): string {
  const cause = causeOf(domain, e);
  return `vnet-virt: ${domain}: ${timedOut && e !== timedOut ? `${timedOut.message}: ` : ''}${cause}\n`;
}

export function exitCodeOf(e: unknown): number {
  if (e instanceof VnetError) return e.exitCode;
  return ExitCode.hostFailedUndone;
}

/** Waits for `work`; once `signal` fires, waits at most `graceMs` more for it to undo and settle. */
export function settleWithin<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      grace = setTimeout(
        () =>
          reject(
            new VnetError(`did not stop within ${formatSeconds(graceMs)} after the time limit; devices may be left`, {
              code: 'E_HOOK_STUCK',
              exitCode: ExitCode.hostFailedLeftovers,
              hint: 'see the hook log, then run vnet-virt down on the domain XML',
            }),
          ),
        graceMs,
      );
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        clearTimeout(grace);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(grace);
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Runs commands like `run`, logging each: the command (an ip batch's lines
 * inline), exit code, duration. The first call for the early probe's argv
 * gets the early result; the first `ip -batch -`, or the first lone `ip`
 * command that a batch line can carry, goes to the batch started early.
 */
export function loggingRunner(log: (line: string) => void, early?: EarlyProbe): Runner {
  let pending = early;
  let batch = early?.batch;
  const by = early?.by ? `, started early by ${early.by}` : ', started early';
  /** `ip [-n NS] ARGS` as the early batch's one line, when the batch is `ip [-n NS] -batch -`. */
  const asLine = (argv: readonly string[], batchArgv: readonly string[]): string | undefined => {
    const prefix = batchArgv.slice(0, -2);
    if (!sameArgv(batchArgv.slice(-2), ['-batch', '-']) || argv.length <= prefix.length || !sameArgv(argv.slice(0, prefix.length), prefix)) return undefined;
    return argv[prefix.length]!.startsWith('-') ? undefined : batchLine(argv.slice(prefix.length));
  };
  return async (argv, opts = {}) => {
    let t0 = now();
    let r: RunResult;
    let note = '';
    let line: string | undefined;
    if (pending && !opts.input && sameArgv(argv, pending.argv)) {
      t0 = pending.startedAt;
      r = await pending.result;
      note = by;
      pending = undefined;
    } else if (batch && opts.input !== undefined && sameArgv(argv, (await batch).argv)) {
      r = await (await batch).finish(opts.input, opts.signal);
      note = r.ranIn ? `, in ${r.ranIn}` : by;
      batch = undefined;
    } else if (batch && opts.input === undefined && (line = asLine(argv, (await batch).argv)) !== undefined) {
      r = { ...(await (await batch).finish(`${line}\n`, opts.signal)), argv };
      note = `${by}, as its one line`;
      batch = undefined;
    } else r = await run(argv, opts);
    const lines = opts.input && argv.includes('-batch') ? ` <<< ${opts.input.trim().split('\n').join(' ; ')}` : '';
    const err = r.code !== 0 && r.stderr.trim() ? `: ${r.stderr.trim()}` : '';
    log(`run ${shellLine(argv)}${lines} -> exit ${r.code} (${Math.round(now() - t0)} ms${note})${err}`);
    return r;
  };
}

/** Ends the early batch when no plan step used it: ip reads no command and exits 0. */
async function closeEarlyBatch(early: EarlyProbe): Promise<void> {
  const started = await early.batch?.catch(() => undefined);
  if (started) void started.finish('');
}

export async function runHookAction(req: HookRequest, io: HookIO, overrides: HookOverrides): Promise<HookResult> {
  const started = now();
  const ms = (): string => `${Math.round(now() - started)} ms`;
  const operation = `${req.op}/${req.sub}`;
  // The planner and executor load while the XML is parsed and checked.
  const provision = import('../host/provision.js');
  provision.catch(() => {});
  let settings: HookSettings;
  try {
    settings = loadSettings(io.env);
  } catch (e) {
    io.stderr(failureLine(req.domain, e));
    return { code: exitCodeOf(e), outcome: 'failed' };
  }
  const netns = overrides.netns ?? settings.netns;
  const fileLog = overrides.log ? undefined : openHookLog(settings.logFile, req.domain, operation, io.stderr);
  const log = overrides.log ?? fileLog!;

  const controller = new AbortController();
  let timedOut: HookTimeout | undefined;
  const timer = setTimeout(() => {
    timedOut = new HookTimeout(settings.timeoutMs);
    log(`time limit of ${formatSeconds(settings.timeoutMs)} reached: aborting and undoing`);
    controller.abort(timedOut);
  }, settings.timeoutMs);
  let early: ReturnType<typeof startEarly> | undefined;
  try {
    log(
      `${req.action} begins (netns ${netns ?? 'current'}, limit ${formatSeconds(settings.timeoutMs)}` +
        `${settings.createBridge ? ', create-bridge' : ''}${overrides.dryRun ? ', dry run' : ''})`,
    );
    const doc = DomainDoc.parse(req.xml, req.domain);
    if (doc.name !== undefined && doc.name !== req.domain) log(`note: the XML names the domain ${doc.name}`);
    if (recordEntries(doc).length === 0) {
      log(`${req.action}: the record lists no interface: nothing to do (${ms()})`);
      return { code: 0, outcome: 'empty-record' };
    }
    // What up/down would refuse, refused now, without the lock.
    intentOf(doc);
    early = startEarly({ lockName: settings.lockName, timeoutMs: settings.timeoutMs, netns, dryRun: overrides.dryRun, holder: `${req.domain} ${operation}`, scriptIp: scriptIpOf(io.env) });
    if (early.lock) log(`lock ${(await early.lock).key} taken (${ms()})`);
    const { up, down } = await provision;
    const work = (req.action === 'up' ? up : down)([doc], {
      netns,
      dryRun: overrides.dryRun,
      createBridge: settings.createBridge,
      log: (line: string) => log(line),
      signal: controller.signal,
      runner: loggingRunner(log, early.probe),
    });
    // Finished is finished: the executor checks the signal after every process, so a late timer changed nothing.
    const report = await settleWithin(work, controller.signal, settings.graceMs);
    log(`${req.action} done: ${report.steps.length} step${report.steps.length === 1 ? '' : 's'}, ${report.processes} process${report.processes === 1 ? '' : 'es'} (${ms()})`);
    return { code: 0, outcome: 'done', report };
  } catch (e) {
    const line = failureLine(req.domain, e, timedOut);
    const code = timedOut && exitCodeOf(e) !== ExitCode.hostFailedLeftovers ? ExitCode.hostFailedUndone : exitCodeOf(e);
    const hint = e instanceof VnetError && e.hint ? ` (hint: ${e.hint})` : '';
    log(`${req.action} failed, exit ${code} (${ms()}): ${line.slice(`vnet-virt: ${req.domain}: `.length).trim()}${hint}`);
    io.stderr(line);
    return { code, outcome: 'failed' };
  } finally {
    clearTimeout(timer);
    if (early) void closeEarlyBatch(early.probe);
    early?.lock?.then((l) => l.release(), () => {});
    fileLog?.close();
  }
}
