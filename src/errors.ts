// Every failure a user can see is a VnetError: a stable code, the exit code of
// the contract in the README, what it concerns, and what to do about it.

export const ExitCode = {
  ok: 0,
  hostFailedUndone: 1,
  usage: 2,
  invalidInput: 3,
  hostFailedLeftovers: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface VnetErrorInit {
  /** Stable machine-readable code, e.g. 'E_MAC_INVALID'. Tests assert this. */
  code: string;
  exitCode: ExitCode;
  /** The file the error is about, when there is one. */
  file?: string | undefined;
  /** The element (XPath or line) or option the error is about. */
  where?: string | undefined;
  /** What the user should do. */
  hint?: string | undefined;
  cause?: unknown;
}

export class VnetError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly file: string | undefined;
  readonly where: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, init: VnetErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'VnetError';
    this.code = init.code;
    this.exitCode = init.exitCode;
    this.file = init.file;
    this.where = init.where;
    this.hint = init.hint;
  }

  /** The one line printed on stderr: `file: where: message (hint)`. */
  oneLine(): string {
    const head = [this.file, this.where].filter(Boolean).join(': ');
    const hint = this.hint ? `; ${this.hint}` : '';
    return `${head ? head + ': ' : ''}${this.message}${hint}`.replace(/\s*\n\s*/g, ' ');
  }
}

export const usageError = (code: string, message: string, init: Omit<VnetErrorInit, 'code' | 'exitCode'> = {}): VnetError =>
  new VnetError(message, { ...init, code, exitCode: ExitCode.usage });

export const inputError = (code: string, message: string, init: Omit<VnetErrorInit, 'code' | 'exitCode'> = {}): VnetError =>
  new VnetError(message, { ...init, code, exitCode: ExitCode.invalidInput });

/** The errno code of a system error ('ENOENT', 'EPIPE', ...), if it is one. */
export const errnoOf = (e: unknown): string | undefined =>
  e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;

/** A file named by an option (-o, --summary) that cannot be written: one line, exit 2 (a VnetError passes as it is). */
export function cannotWrite(file: string, where: string, e: unknown, what = 'write'): VnetError {
  if (e instanceof VnetError) return e;
  return usageError('E_WRITE_FAILED', `cannot ${what} (${errnoOf(e) ?? (e as Error).message})`, {
    file,
    where,
    hint: 'check that the folder exists and is writable',
    cause: e,
  });
}
