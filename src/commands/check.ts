// vnet-virt check: list every difference between the host and the domain XML.
import { ExitCode } from '../errors.js';
import type { DomainSourceOptions } from './domain-source.js';
import { hostDomains, stderrLog } from './up.js';

export async function runCheck(inputs: string[], opts: DomainSourceOptions & { netns?: string; json?: boolean; quiet?: boolean }, out: (s: string) => void): Promise<void> {
  // By name: what the running guest uses (the live definition), unless --inactive; a stopped domain has only the persistent one.
  const { named, domains } = await hostDomains(inputs, opts, opts.inactive ? 'persistent' : 'live', true);
  const { check, domainCount } = await import('../host/provision.js');
  const { drift, notes } = await check(domains, { netns: opts.netns, log: stderrLog });
  const count = domainCount(domains);
  const definitions = named.map((n) => ({ file: n.doc.file, definition: n.definition }));
  if (opts.json)
    out(JSON.stringify({ command: 'check', netns: opts.netns ?? null, ok: drift.length === 0, drift, notes, ...(definitions.length ? { definitions } : {}) }) + '\n');
  else {
    for (const d of drift) out(`${d.file}: ${d.message} [${d.kind}]\n`);
    for (const d of notes) out(`${d.file}: note: ${d.message} [${d.kind}]\n`);
  }
  // Silence would look like a check that did not run: a clean check says so (not with --quiet).
  if (!opts.json && !opts.quiet && drift.length === 0)
    out(`${count} domain${count === 1 ? '' : 's'} checked${opts.netns ? ` in namespace ${opts.netns}` : ''}: the host matches the XML\n`);
  if (drift.length) process.exitCode = ExitCode.invalidInput;
}
