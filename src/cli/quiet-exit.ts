// No stack traces, ever: a closed stdout or stderr (`vnet-virt ... | head`) is
// not an error, and anything unexpected is reported in one line.

const isEpipe = (e: unknown): boolean =>
  e instanceof Error && 'code' in e && (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED');

/** The one line printed for an error nobody expected; VNET_VIRT_DEBUG=1 adds the stack. */
export function internalErrorLine(e: unknown): string {
  const what = e instanceof Error ? `${e.message}`.replace(/\s*\n\s*/g, ' ') : String(e);
  const stack = process.env.VNET_VIRT_DEBUG && e instanceof Error && e.stack ? `\n${e.stack}` : '';
  return `vnet-virt: internal error: ${what}; please report it (VNET_VIRT_DEBUG=1 shows where)${stack}\n`;
}

/**
 * When the reader of stdout (or stderr) goes away, the rest of that output is
 * dropped, as `ls | head` drops it, and the command still finishes what it
 * started: host changes are never cut off half-way by a closed pipe. Errors
 * that escape everything else end the process with one line and exit 1.
 */
export function guardProcess(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e) => {
      if (isEpipe(e)) return;
      fatal(e);
    });
  }
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

function fatal(e: unknown): void {
  if (isEpipe(e)) return;
  try {
    process.stderr.write(internalErrorLine(e));
  } catch {
    // stderr is gone too
  }
  process.exit(1);
}
