// vnet-virt up: create the host devices the domains need, then bring them up.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inputError, usageError } from '../errors.js';
import type { DomainDoc } from '../domain/doc.js';
import { readDomain } from './io.js';
import { checkSource, namedDocs } from './domain-source.js';
import type { Definition, DomainSourceOptions, NamedDoc } from './domain-source.js';
import type { ProvisionOptions, UpDownReport } from '../host/provision.js';

export interface HostCommandOptions extends DomainSourceOptions {
  netns?: string;
  dryRun?: boolean;
  adopt?: boolean;
  createBridge?: boolean;
  json?: boolean;
}

/** Domain XML files named on the command line: files, directories (their *.xml, sorted) or '-' (stdin, once). */
export function readDomains(inputs: readonly string[]): DomainDoc[] {
  if (inputs.filter((i) => i === '-').length > 1) throw usageError('E_USAGE', "'-' (stdin) can be given only once", { where: '-' });
  const files: string[] = [];
  for (const input of inputs) {
    let isDir = false;
    try {
      isDir = input !== '-' && statSync(input).isDirectory();
    } catch {
      // readDomain reports a missing file
    }
    if (!isDir) {
      files.push(input);
      continue;
    }
    const xml = readdirSync(input)
      .filter((n) => n.endsWith('.xml'))
      .sort()
      .map((n) => join(input, n));
    if (xml.length === 0) throw inputError('E_NO_DOMAINS', 'the directory holds no .xml files', { file: input, hint: 'name domain XML files or a directory of them' });
    files.push(...xml);
  }
  return files.map(readDomain);
}

/**
 * The domains a command works on: files, or by name (--domain, --all-domains)
 * the definition `prefer` names; a note on stderr says which one was read.
 */
export async function domainsOf(inputs: readonly string[], opts: DomainSourceOptions, prefer: Definition, all = false): Promise<NamedDoc[] | DomainDoc[]> {
  if (!checkSource(inputs, opts, { all })) return readDomains(inputs);
  return namedDocs(opts, prefer, (line) => stderrLog(`note: ${line}`));
}

export const docsOf = (d: NamedDoc[] | DomainDoc[]): DomainDoc[] => d.map((x) => ('doc' in x ? x.doc : x));

export const stderrLog = (line: string): void => {
  process.stderr.write(`vnet-virt: ${line}\n`);
};

export function printReport(report: UpDownReport, json: boolean | undefined, out: (s: string) => void): void {
  if (json) out(JSON.stringify(report) + '\n');
  // One write, not one per step: stdout is synchronous, and up of 1,000 domains is 7,000 lines.
  else if (report.steps.length) out(report.steps.map((s) => s.command + '\n').join(''));
}

export function provisionOptions(opts: HostCommandOptions): ProvisionOptions {
  return { netns: opts.netns, dryRun: opts.dryRun, adopt: opts.adopt, createBridge: opts.createBridge, log: stderrLog };
}

export async function runUp(inputs: string[], opts: HostCommandOptions, out: (s: string) => void): Promise<void> {
  const docs = docsOf(await domainsOf(inputs, opts, 'persistent'));
  const { up } = await import('../host/provision.js');
  printReport(await up(docs, provisionOptions(opts)), opts.json, out);
}
