// vnet-virt check: list every difference between the host and the domain XML.
import { ExitCode } from '../errors.js';
import { readDomains, stderrLog } from './up.js';

export async function runCheck(inputs: string[], opts: { netns?: string; json?: boolean }, out: (s: string) => void): Promise<void> {
  const docs = readDomains(inputs);
  const { check } = await import('../host/provision.js');
  const { drift, notes } = await check(docs, { netns: opts.netns, log: stderrLog });
  if (opts.json) out(JSON.stringify({ command: 'check', netns: opts.netns ?? null, ok: drift.length === 0, drift, notes }) + '\n');
  else {
    for (const d of drift) out(`${d.file}: ${d.message} [${d.kind}]\n`);
    for (const d of notes) out(`${d.file}: note: ${d.message} [${d.kind}]\n`);
  }
  if (drift.length) process.exitCode = ExitCode.invalidInput;
}
