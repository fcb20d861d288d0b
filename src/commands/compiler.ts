// V8's optimising compiler (TurboFan) for runs that end soon. A command run
// over many domain files parses each once and runs each piece of code a few
// thousand times at most, then exits; TurboFan compiles the hot functions on
// background threads all the same, and that costs more CPU than the optimised
// code saves before the process ends:
// - check of 1,000 domains took a fifth less node CPU without it (0.72 s
//   against 0.93 s, median of five each) and no longer;
// - lint --no-schema of the corpus x10 (3,590 files) about a quarter less CPU
//   and less time; at x100 (35,900 files) the optimised code pays, and lint
//   keeps it (docs/design.md, "Fleet runs" and "lint: what a lane builds").
// Node allows the flag to change at run time; code already optimised stays as it is.

/** Turns TurboFan off for the rest of this process (and the worker threads it starts after). */
export async function withoutOptimizingCompiler(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--no-turbofan');
}

/** From this many domain files on, a run is a fleet run: up, down and check run it without TurboFan. */
export const FLEET = 64;

/** lint: from this many files on the optimised code pays for its compiling (measured between x10 and x100 of the corpus). */
export const LINT_OPTIMIZE_FROM = 8000;
