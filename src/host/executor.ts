// The executor: runs a Plan with as few processes as it can (one `ip -batch -`
// per run of steps), and knows exactly which steps happened, so the undo of a
// failed `up` is exact. `ip -batch` without -force stops at the first failing
// line and names it ("Command failed -:N"); when ip dies without saying (a
// parse error exits at once, a kill), the host is read again to tell.
import { VnetError, ExitCode } from '../errors.js';
import { readHostFacts } from './facts.js';
import type { HostFacts } from './facts.js';
import { batchLine, shellLine } from './quote.js';
import { ipArgv, run } from './run.js';
import type { Runner } from './run.js';
import { effectVisible } from './step.js';
import type { Effect, Plan, Step } from './step.js';

export interface ExecuteOptions {
  runner?: Runner | undefined;
  /** Reads the host again when ip stopped without naming the failed line (default: readHostFacts with the runner). */
  probe?: (() => Promise<HostFacts>) | undefined;
  /** Aborting stops the plan; what ran is then undone (the undo itself is not abortable). */
  signal?: AbortSignal | undefined;
  log?: ((line: string) => void) | undefined;
}

export interface Failure {
  step: Step;
  stderr: string;
}

export interface Leftover {
  device: string;
  domain: string;
  iface: string | undefined;
  /** The command that removes (or restores) it, shell-quoted. */
  command: string;
  stderr: string;
}

export interface ExecuteResult {
  done: Step[];
  /** Processes started, the probe included. */
  processes: number;
}

/** A host operation failed: exit 1 when everything was undone, exit 4 with leftovers. */
export class HostError extends VnetError {
  constructor(
    message: string,
    exitCode: ExitCode,
    code: string,
    file: string | undefined,
    hint: string | undefined,
    readonly failure: Failure | undefined,
    readonly undone: Step[],
    readonly leftovers: Leftover[],
  ) {
    super(message, { code, exitCode, file, hint });
    this.name = 'HostError';
  }
}

interface RunOutcome {
  done: Step[];
  failures: Failure[];
}

const clean = (stderr: string): string =>
  stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^Command failed /.test(l))
    .join('; ')
    .trim() || 'no message';

class StepRunner {
  processes = 0;
  private readonly runner: Runner;

  constructor(
    private readonly netns: string | undefined,
    private readonly opts: ExecuteOptions,
  ) {
    this.runner = opts.runner ?? run;
  }

  private prefix(): string[] {
    return this.netns ? ['ip', '-n', this.netns] : ['ip'];
  }

  private ownsArgv(argv: readonly string[]): boolean {
    const prefix = this.prefix();
    return prefix.every((w, k) => argv[k] === w) && !argv[prefix.length]?.startsWith('-');
  }

  private async probe(): Promise<HostFacts> {
    this.processes++;
    return this.opts.probe ? this.opts.probe() : readHostFacts(this.netns, this.runner);
  }

  private exec(argv: readonly string[], input: string | undefined, signal: AbortSignal | undefined) {
    this.processes++;
    return this.runner(argv, { input, signal });
  }

  /**
   * Runs `steps` in order. 'stop': up to the first failure. 'continue': every
   * step is tried (down, and the undo). `effectOf` tells what a step changes.
   */
  async run(steps: readonly Step[], mode: 'stop' | 'continue', effectOf: (s: Step) => Effect, signal?: AbortSignal): Promise<RunOutcome> {
    const done: Step[] = [];
    const failures: Failure[] = [];
    const skip = this.prefix().length;
    let i = 0;
    while (i < steps.length) {
      if (signal?.aborted) {
        failures.push({ step: steps[i]!, stderr: 'aborted before this step' });
        break;
      }
      const lines: string[] = [];
      for (let j = i; j < steps.length; j++) {
        // Only `ip [-n NS]` of this plan batches; other commands (another namespace, nsenter) run alone.
        if (!this.ownsArgv(steps[j]!.argv)) break;
        const line = batchLine(steps[j]!.argv.slice(skip));
        if (line === undefined) break;
        lines.push(line);
      }
      // A lone step, or one the batch syntax cannot carry, runs as its own command.
      const segment = steps.slice(i, i + Math.max(lines.length, 1));
      const r =
        lines.length > 1
          ? await this.exec([...this.prefix(), '-batch', '-'], lines.join('\n') + '\n', signal)
          : await this.exec(segment[0]!.argv, undefined, signal);
      if (r.code === 0) {
        done.push(...segment);
        i += segment.length;
        continue;
      }
      // ip names the failed line of a batch; a lone command that failed by itself did nothing.
      let failed: number | undefined;
      if (!signal?.aborted && lines.length <= 1) failed = 0;
      const named = !signal?.aborted && lines.length > 1 ? [...r.stderr.matchAll(/Command failed -:(\d+)/g)].pop() : undefined;
      if (named) failed = Number(named[1]) - 1;
      if (failed === undefined) {
        // Killed, or ip stopped without naming the line: what is visible on the host now says what ran.
        const facts = await this.probe();
        const visible = segment.map((s) => effectVisible(effectOf(s), facts.links));
        failed = visible.findIndex((v) => !v);
        if (failed === -1) {
          // Every effect is there: the process died after its last command.
          done.push(...segment);
          i += segment.length;
          continue;
        }
      }
      done.push(...segment.slice(0, failed));
      failures.push({ step: segment[failed]!, stderr: signal?.aborted ? `aborted: ${clean(r.stderr)}` : clean(r.stderr) });
      if (mode === 'stop') break;
      i += failed + 1;
    }
    return { done, failures };
  }
}

/** What a failure leaves behind, each with the command that removes it (down) or restores it (an undo). */
function leftovers(failures: Failure[], plan: Plan): Leftover[] {
  const out = new Map<string, Leftover>();
  for (const { step, stderr } of failures) {
    const base = { domain: step.domain, iface: step.iface, stderr };
    // A failed group deletion deleted nothing; in down, any device not deleted is removed on its own.
    const devices = step.effect.type === 'delete-group' ? step.effect.devices : [step.device];
    for (const device of devices)
      if (!out.has(device))
        out.set(device, { ...base, device, command: shellLine(plan.kind === 'down' ? (step.effect.type === 'delete' ? step.argv : ipArgv(plan.netns, ['link', 'del', 'dev', device])) : step.argv) });
  }
  return [...out.values()];
}

const describe = (f: Failure): string =>
  `${f.step.domain}: \`${shellLine(f.step.argv)}\` failed: ${f.stderr}${f.step.iface ? ` (interface ${f.step.iface})` : ''}`;

const listLeftovers = (l: Leftover[]): string => l.map((x) => `${x.device} (remove: ${x.command})`).join(', ');

/** The steps that reverse `done`, newest first (a step whose device's deletion covers it needs none). */
export function undoSteps(done: readonly Step[]): Step[] {
  return done
    .filter((s) => s.undo !== null)
    .reverse()
    .map((s) => ({ ...s, argv: s.undo!, undo: null, effect: s.undoEffect!, undoEffect: null, description: `undo: ${s.description}` }));
}

/** Runs a plan. up: all or nothing (exit 1 undone, exit 4 leftovers). down: every step tried (exit 4 leftovers). */
export async function execute(plan: Plan, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
  const runner = new StepRunner(plan.netns, opts);
  if (plan.steps.length === 0) return { done: [], processes: 0 };
  if (plan.kind === 'down') {
    const r = await runner.run(plan.steps, 'continue', (s) => s.effect, opts.signal);
    if (r.failures.length === 0) return { done: r.done, processes: runner.processes };
    const left = leftovers(r.failures, plan);
    for (const l of left) opts.log?.(`left behind: ${l.device} (remove: ${l.command}): ${l.stderr}`);
    throw new HostError(
      `${describe(r.failures[0]!)}; left behind: ${listLeftovers(left)}`,
      ExitCode.hostFailedLeftovers,
      'E_HOST_LEFTOVERS',
      r.failures[0]!.step.file,
      'run the listed commands, or run down again',
      r.failures[0],
      [],
      left,
    );
  }

  const r = await runner.run(plan.steps, 'stop', (s) => s.effect, opts.signal);
  const failure = r.failures[0];
  if (!failure) return { done: r.done, processes: runner.processes };

  // Undo what ran, newest first; a step whose device's deletion covers it needs nothing.
  const undo = undoSteps(r.done);
  for (const s of undo) opts.log?.(`undo: ${shellLine(s.argv)}`);
  const u = await runner.run(undo, 'continue', (s) => s.effect);
  if (u.failures.length === 0)
    throw new HostError(
      `${describe(failure)}; ${r.done.length === 0 ? 'nothing had changed' : `the ${r.done.length} step${r.done.length === 1 ? '' : 's'} before it ${r.done.length === 1 ? 'was' : 'were'} undone`}`,
      ExitCode.hostFailedUndone,
      'E_HOST_FAILED',
      failure.step.file,
      undefined,
      failure,
      u.done,
      [],
    );
  const left = leftovers(u.failures, plan);
  for (const l of left) opts.log?.(`left behind: ${l.device} (remove: ${l.command}): ${l.stderr}`);
  throw new HostError(
    `${describe(failure)}; the undo failed too, left behind: ${listLeftovers(left)}`,
    ExitCode.hostFailedLeftovers,
    'E_HOST_LEFTOVERS',
    failure.step.file,
    'run the listed commands to remove them',
    failure,
    u.done,
    left,
  );
}
