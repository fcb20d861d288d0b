// Is an XML valid for libvirt? Batched: one xmllint over all files (what
// virt-xml-validate runs for a domain) and one virsh process whose test driver
// defines and undefines each domain in turn.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { DomainDoc } from '../../src/domain/doc.js';
import { requireOrSkip } from '../helpers.js';

export const DOMAIN_RNG = '/usr/share/libvirt/schemas/domain.rng';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

export function requireLibvirtTools(t: TestContext): boolean {
  return requireOrSkip(
    t,
    has('xmllint') && has('virsh') && existsSync(DOMAIN_RNG),
    'needs xmllint, virsh and libvirt schemas (scripts/install-deps.sh installs them)',
  );
}

/** RelaxNG verdicts for many files in one xmllint run: file -> undefined (valid) or the error lines. */
export function schemaVerdicts(files: string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  if (files.length === 0) return out;
  const r = spawnSync('xmllint', ['--noout', '--relaxng', DOMAIN_RNG, ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const errors = new Map<string, string[]>();
  for (const line of r.stderr.split('\n')) {
    const f = files.find((file) => line.startsWith(file + ':') || line.startsWith(file + ' '));
    if (!f) continue;
    if (line === `${f} validates`) out.set(f, undefined);
    else if (line !== `${f} fails to validate`) errors.set(f, [...(errors.get(f) ?? []), line]);
  }
  for (const f of files) if (!out.has(f) || errors.has(f)) out.set(f, (errors.get(f) ?? ['no verdict from xmllint']).join(' | '));
  return out;
}

/** `virsh -c test:///default define` verdicts, one virsh process for all files: file -> undefined or the error. */
export function defineVerdicts(files: string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  if (files.length === 0) return out;
  // virsh's own command-line parser: backslash escapes work inside double quotes.
  const quote = (s: string): string => `"${s.replace(/[\\"]/g, '\\$&')}"`;
  const names = new Map(files.map((f) => [f, DomainDoc.parse(readFileSync(f, 'utf8'), f).name ?? ''] as const));
  // Each domain is undefined again, so the next one may reuse its name or UUID.
  const script = files.map((f) => `define ${quote(f)}; undefine ${quote(names.get(f)!)}`).join('; ');
  const r = spawnSync('virsh', ['-c', 'test:///default', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const defined = new Set(r.stdout.split('\n').filter((l) => l.startsWith('Domain ')));
  // stderr is ordered within itself: each failure starts with a line naming its file.
  const errors = new Map<string, string[]>();
  let current: string | undefined;
  for (const line of r.stderr.split('\n')) {
    const m = line.match(/^error: Failed to define domain from (.*)$/);
    if (m) current = m[1];
    else if (current && line.startsWith('error:') && !line.includes('failed to get domain')) errors.set(current, [...(errors.get(current) ?? []), line]);
  }
  for (const f of files)
    out.set(f, defined.has(`Domain '${names.get(f)}' defined from ${f}`) ? undefined : (errors.get(f) ?? ['no verdict from virsh']).join(' | '));
  return out;
}

/** Writes named XML texts into `dir` and returns the problems libvirt has with each: name -> error. */
export function libvirtProblems(dir: string, xmls: Map<string, string>): Map<string, string> {
  const files = new Map<string, string>();
  let i = 0;
  for (const [name, xml] of xmls) {
    const f = join(dir, `${String(i++).padStart(4, '0')}.xml`);
    writeFileSync(f, xml);
    files.set(f, name);
  }
  const schema = schemaVerdicts([...files.keys()]);
  const define = defineVerdicts([...files.keys()].filter((f) => schema.get(f) === undefined));
  const problems = new Map<string, string>();
  for (const [f, name] of files) {
    const err = schema.get(f) ?? define.get(f);
    if (err !== undefined) problems.set(name, `${f}: ${schema.get(f) !== undefined ? 'schema' : 'virsh define'}: ${err}`);
  }
  return problems;
}
