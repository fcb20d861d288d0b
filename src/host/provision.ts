// The host API: up, down and check over domain documents. The CLI and the
// libvirt hook both call exactly these. HostFacts are read once per call.
import type { DomainDoc } from '../domain/doc.js';
import { intentOf } from '../intent/intent.js';
import type { Intent } from '../intent/intent.js';
import { driftsOf } from './drift.js';
import type { DriftKind } from './drift.js';
import { execute } from './executor.js';
import { readHostFacts } from './facts.js';
import type { HostFacts } from './facts.js';
import { planDown, planUp } from './plan.js';
import { shellLine } from './quote.js';
import type { Runner } from './run.js';
import type { Plan, Step } from './step.js';
import { wantsOf } from './wants.js';

export interface ProvisionOptions {
  /** Work inside this network namespace (`ip -n NS`). */
  netns?: string | undefined;
  /** Plan only: the report lists the commands, nothing runs. */
  dryRun?: boolean | undefined;
  /** up: mark existing devices with the right name as ours and fix what can be fixed in place. */
  adopt?: boolean | undefined;
  /** up: create a missing bridge, marked as ours. */
  createBridge?: boolean | undefined;
  /** Human lines: devices left alone, undo progress. */
  log?: ((line: string) => void) | undefined;
  /** Aborting stops `up`; what ran is undone. */
  signal?: AbortSignal | undefined;
  /** Only the interfaces with these target devs (attach --provision: the new one). */
  interfaces?: readonly string[] | undefined;
  /** Tests: start commands through this instead of node:child_process. */
  runner?: Runner | undefined;
}

export interface ReportStep {
  /** The command as one shell-quoted line. */
  command: string;
  argv: string[];
  device: string;
  description: string;
  domain: string;
  file: string;
  interface: string | null;
}

export interface UpDownReport {
  command: 'up' | 'down';
  netns: string | null;
  dryRun: boolean;
  domains: { name: string | null; uuid: string | null; file: string }[];
  /** What ran (or, with dryRun, what would run), in order. */
  steps: ReportStep[];
  /** What was left alone on purpose, one line each. */
  notes: string[];
  /** Processes started: the probe, and the ip batches. */
  processes: number;
}

export interface DriftReport {
  domain: string;
  file: string;
  interface: string;
  xpath: string;
  device: string;
  kind: DriftKind;
  expected: string | null;
  actual: string | null;
  message: string;
}

function intentsOf(docs: readonly DomainDoc[], only: readonly string[] | undefined): Intent[] {
  return docs.map((doc) => {
    const intent = intentOf(doc);
    return only ? { ...intent, items: intent.items.filter((i) => only.includes(i.iface.dev)) } : intent;
  });
}

const reportStep = (s: Step): ReportStep => ({
  command: shellLine(s.argv),
  argv: s.argv,
  device: s.device,
  description: s.description,
  domain: s.domain,
  file: s.file,
  interface: s.iface ?? null,
});

async function apply(command: 'up' | 'down', docs: readonly DomainDoc[], opts: ProvisionOptions, plan: (intents: Intent[], facts: HostFacts) => Plan): Promise<UpDownReport> {
  const intents = intentsOf(docs, opts.interfaces);
  const report: UpDownReport = {
    command,
    netns: opts.netns ?? null,
    dryRun: Boolean(opts.dryRun),
    domains: intents.map((i) => ({ name: i.domain.name ?? null, uuid: i.domain.uuid ?? null, file: i.domain.file })),
    steps: [],
    notes: [],
    processes: 0,
  };
  if (intents.every((i) => i.items.length === 0)) return report;
  const facts = await readHostFacts(opts.netns, opts.runner);
  const p = plan(intents, facts);
  report.notes = p.notes.map((n) => n.message);
  for (const n of report.notes) opts.log?.(n);
  if (opts.dryRun) {
    report.steps = p.steps.map(reportStep);
    report.processes = 1;
    return report;
  }
  const r = await execute(p, { runner: opts.runner, signal: opts.signal, log: opts.log });
  report.steps = r.done.map(reportStep);
  report.processes = 1 + r.processes;
  return report;
}

/** Creates what the domains' interfaces and records need, marked as theirs, and brings it up. All or nothing. */
export function up(docs: DomainDoc[], opts: ProvisionOptions = {}): Promise<UpDownReport> {
  return apply('up', docs, opts, (intents, facts) => planUp(intents, facts, opts));
}

/** Deletes the devices that carry these domains' markers; anything else is reported and left. */
export function down(docs: DomainDoc[], opts: ProvisionOptions = {}): Promise<UpDownReport> {
  return apply('down', docs, opts, (intents, facts) => planDown(intents, facts));
}

/** Every difference between the host and what the domains need (empty: none). */
export async function check(docs: DomainDoc[], opts: Pick<ProvisionOptions, 'netns' | 'interfaces' | 'runner'> = {}): Promise<DriftReport[]> {
  const intents = intentsOf(docs, opts.interfaces);
  if (intents.every((i) => i.items.length === 0)) return [];
  const facts = await readHostFacts(opts.netns, opts.runner);
  return wantsOf(intents).flatMap((w) =>
    driftsOf(w, facts).map((d) => ({
      domain: w.from.domain.label,
      file: w.from.domain.file,
      interface: w.from.iface.dev,
      xpath: w.from.iface.xpath,
      device: d.device,
      kind: d.kind,
      expected: d.expected,
      actual: d.actual,
      message: `${w.from.domain.label}: ${d.message} (interface ${w.from.iface.dev})`,
    })),
  );
}
