// Processes started before they are asked for. A run over a fleet takes the
// namespace's lock first, then starts the host probe (`ip -j -d link show`)
// and, for a run that changes the host, the `ip -batch -` that will take the
// plan's commands; only then does it read and parse the domain files. The
// probe (thousands of devices, megabytes of JSON) runs on the other core while
// the files are parsed, and neither process is forked from a heap full of
// parsed documents. The batch reads nothing until the plan's commands come,
// which is after the journal is written; if this process dies first, its
// stdin closes and ip exits having done nothing.
import { ipArgv, run, sameArgv, startRun } from './run.js';
import type { Runner, RunResult, StartedRun } from './run.js';

export interface EarlyRuns {
  /** Runs commands like `runner`; the first probe and the first `-batch -` with input get the processes started early. */
  runner: Runner;
  /** Ends the early batch if nothing used it: ip reads no command and exits 0. */
  close(): void;
}

/**
 * Starts the probe of `netns` now, through `runner`, and with `batch` an
 * `ip -batch -` waiting for its input (only with the real runner: a stand-in
 * cannot start a process whose input comes later).
 */
export function startEarly(netns: string | undefined, opts: { batch: boolean; runner?: Runner | undefined }): EarlyRuns {
  const base = opts.runner ?? run;
  const probeArgv = ipArgv(netns, ['-j', '-d', 'link', 'show']);
  let probe: Promise<RunResult> | undefined = base(probeArgv);
  let batch: StartedRun | undefined = opts.batch && !opts.runner ? startRun(ipArgv(netns, ['-batch', '-'])) : undefined;
  return {
    runner: (argv, o = {}) => {
      if (probe && o.input === undefined && sameArgv(argv, probeArgv)) {
        const p = probe;
        probe = undefined;
        return p;
      }
      if (batch && o.input !== undefined && sameArgv(argv, batch.argv)) {
        const b = batch;
        batch = undefined;
        return b.finish(o.input, o.signal);
      }
      return base(argv, o);
    },
    close() {
      void batch?.finish('');
      batch = undefined;
    },
  };
}
