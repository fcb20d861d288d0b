// Writing argv as text: shell-quoted for people (--dry-run, errors), and as a
// line of `ip -batch` input, whose tokenizer has its own rules (iproute2 makeargs).

const SHELL_SAFE = /^[A-Za-z0-9@%+=:,./_-]+$/;

export function shellQuote(arg: string): string {
  return SHELL_SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export const shellLine = (argv: readonly string[]): string => argv.map(shellQuote).join(' ');

/**
 * One argument as an `ip -batch` word, or undefined when the batch syntax cannot
 * carry it: ip cuts every line at '#', has no escapes, and quotes only whole words.
 */
export function batchWord(arg: string): string | undefined {
  if (/[#\n\r]/.test(arg) || arg.endsWith('\\')) return undefined;
  if (arg !== '' && !/[ \t"']/.test(arg)) return arg;
  if (!arg.includes('"')) return `"${arg}"`;
  if (!arg.includes("'")) return `'${arg}'`;
  return undefined;
}

/** The batch line for `args` (the argv after `ip [-n NS]`), or undefined when it must run on its own. */
export function batchLine(args: readonly string[]): string | undefined {
  const words = args.map(batchWord);
  return words.every((w): w is string => w !== undefined) ? words.join(' ') : undefined;
}
