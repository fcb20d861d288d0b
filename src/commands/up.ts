// vnet-virt up: create the host devices the domains need, then bring them up.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FLEET, withoutOptimizingCompiler } from './compiler.js';
import { inputError, usageError } from '../errors.js';
import type { DomainDoc } from '../domain/doc.js';
import { isRegularEntry } from '../domain/read.js';
import { readDomain } from './io.js';
import { checkSource, namedDocs } from './domain-source.js';
import type { Definition, DomainSourceOptions, NamedDoc } from './domain-source.js';
import type { Domains, ProvisionOptions, UpDownReport } from '../host/provision.js';

export interface HostCommandOptions extends DomainSourceOptions {
  netns?: string;
  dryRun?: boolean;
  adopt?: boolean;
  createBridge?: boolean;
  json?: boolean;
}

/**
 * Domain XML files named on the command line: files, directories (their *.xml,
 * sorted) or '-' (stdin, once); `regular` when every one is a regular file
 * (nothing that can keep a reader waiting: stdin, a FIFO, a device).
 */
export function domainFiles(inputs: readonly string[]): { files: string[]; regular: boolean } {
  if (inputs.filter((i) => i === '-').length > 1) throw usageError('E_USAGE', "'-' (stdin) can be given only once", { where: '-' });
  const files: string[] = [];
  let regular = true;
  for (const input of inputs) {
    let isDir = false;
    try {
      const st = input === '-' ? undefined : statSync(input);
      isDir = st?.isDirectory() ?? false;
      if (!st?.isFile() && !isDir) regular = false;
    } catch {
      // readDomain reports a missing file
      regular = false;
    }
    if (!isDir) {
      files.push(input);
      continue;
    }
    const xml = readdirSync(input, { withFileTypes: true })
      .filter((d) => d.name.endsWith('.xml'))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (xml.length === 0) throw inputError('E_NO_DOMAINS', 'the directory holds no .xml files', { file: input, hint: 'name domain XML files or a directory of them' });
    for (const d of xml) {
      if (regular && !isRegularEntry(input, d)) regular = false;
      files.push(join(input, d.name));
    }
  }
  return { files, regular };
}

/** By name (--domain, --all-domains): the definitions `prefer` names, a note on stderr saying which was read; undefined for files. */
async function namedIfAsked(inputs: readonly string[], opts: DomainSourceOptions, prefer: Definition, all: boolean): Promise<NamedDoc[] | undefined> {
  return checkSource(inputs, opts, { all }) ? namedDocs(opts, prefer, (line) => stderrLog(`note: ${line}`)) : undefined;
}

/** The documents a command works on: files, or by name the definition `prefer` names. */
export async function domainDocs(inputs: readonly string[], opts: DomainSourceOptions, prefer: Definition, all = false): Promise<DomainDoc[]> {
  const named = await namedIfAsked(inputs, opts, prefer, all);
  return named ? named.map((n) => n.doc) : domainFiles(inputs).files.map(readDomain);
}

/**
 * The domains of up, down and check: by name (the definitions read now), or
 * files, which the run itself reads once it holds the lock and its probe runs
 * (provision.ts), when they are all regular files; otherwise read now, before
 * any lock is taken.
 */
export async function hostDomains(inputs: readonly string[], opts: DomainSourceOptions, prefer: Definition, all = false): Promise<{ named: NamedDoc[]; domains: Domains }> {
  const named = await namedIfAsked(inputs, opts, prefer, all);
  if (named) return { named, domains: named.map((n) => n.doc) };
  const { files, regular } = domainFiles(inputs);
  if (files.length >= FLEET) await withoutOptimizingCompiler();
  return { named: [], domains: regular ? { files, read: readDomain } : files.map(readDomain) };
}

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
  const { domains } = await hostDomains(inputs, opts, 'persistent');
  const { up } = await import('../host/provision.js');
  printReport(await up(domains, provisionOptions(opts)), opts.json, out);
}
