// vnet-virt check: list every difference between the host and the domain XML.
import { ExitCode } from '../errors.js';
import { readDomains } from './up.js';

export async function runCheck(inputs: string[], opts: { netns?: string; json?: boolean; quiet?: boolean }, out: (s: string) => void): Promise<void> {
  const docs = readDomains(inputs);
  const { check } = await import('../host/provision.js');
  const drift = await check(docs, { netns: opts.netns });
  if (opts.json) out(JSON.stringify({ command: 'check', netns: opts.netns ?? null, ok: drift.length === 0, drift }) + '\n');
  else for (const d of drift) out(`${d.file}: ${d.message} [${d.kind}]\n`);
  // Silence would look like a check that did not run: a clean check says so (not with --quiet).
  if (!opts.json && !opts.quiet && drift.length === 0)
    out(`${docs.length} domain${docs.length === 1 ? '' : 's'} checked${opts.netns ? ` in namespace ${opts.netns}` : ''}: the host matches the XML\n`);
  if (drift.length) process.exitCode = ExitCode.invalidInput;
}
