// The host API: up, down and check over domain documents. The CLI and the
// libvirt hook both call exactly these. HostFacts are read once per call.
// Each call holds its namespace's lock from the probe to the end, so two runs
// never plan from the same facts; up journals what it creates (journal.ts).
// Given domain files rather than documents, a call takes the lock first,
// starts its ip processes (early.ts), and parses the files while the probe
// runs, keeping each domain's intent and dropping its document.
import type { DomainDoc } from '../domain/doc.js';
import { intentOf } from '../intent/intent.js';
import type { Intent } from '../intent/intent.js';
import { driftsOf } from './drift.js';
import type { DriftKind } from './drift.js';
import { startEarly } from './early.js';
import type { EarlyRuns } from './early.js';
import { execute, HostError } from './executor.js';
import { journalDir, pendingClaims, pruneJournals, removeJournal, stateDirOf, writeJournal } from './journal.js';
import type { JournalEntry } from './journal.js';
import { acquireLock } from './lock.js';
import type { HeldLock } from './lock.js';
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
  /** Where journals of runs in progress live (default $VNET_VIRT_STATE_DIR, else /run/vnet-virt). */
  stateDir?: string | undefined;
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

/**
 * Domain files that up, down and check read themselves, once the run holds the
 * lock and its probe runs: only regular files (a FIFO or stdin could keep the
 * lock held while it waits for a writer), each read with `read`.
 */
export interface DomainFiles {
  files: readonly string[];
  read(file: string): DomainDoc;
}

/** The domains of a run: documents already parsed, or files read during it. */
export type Domains = readonly DomainDoc[] | DomainFiles;

const isFiles = (d: Domains): d is DomainFiles => !Array.isArray(d);

/** How many domains a run covers. */
export const domainCount = (d: Domains): number => (isFiles(d) ? d.files.length : d.length);

function intentOfDoc(doc: DomainDoc, only: readonly string[] | undefined): Intent {
  const intent = intentOf(doc);
  return only ? { ...intent, items: intent.items.filter((i) => only.includes(i.iface.dev)) } : intent;
}

function intentsOf(domains: Domains, only: readonly string[] | undefined): Intent[] {
  if (!isFiles(domains)) return domains.map((doc) => intentOfDoc(doc, only));
  // The errors come as when every file is parsed before any intent is taken: a file that is not
  // well-formed first (the first in order), then the first file whose intent is refused.
  const intents: Intent[] = [];
  let refused: { e: unknown } | undefined;
  for (const file of domains.files) {
    const doc = domains.read(file);
    if (refused) continue;
    try {
      intents.push(intentOfDoc(doc, only));
    } catch (e) {
      refused = { e };
    }
  }
  if (refused) throw refused.e;
  return intents;
}

/**
 * For a run over files: the lock, then the probe (and with `batch` the
 * `ip -batch -`) started before the files are parsed. Documents already
 * parsed take the lock only once there is something to do, as before.
 */
async function begin(domains: Domains, opts: Pick<ProvisionOptions, 'netns' | 'log' | 'signal' | 'runner'>, batch: boolean): Promise<{ lock?: HeldLock; early?: EarlyRuns }> {
  if (!isFiles(domains)) return {};
  const lock = await lockNamespace(opts);
  return { lock, early: startEarly(opts.netns, { batch, runner: opts.runner }) };
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

/** How long a run waits for the namespace's lock before it says so (a short wait is the normal case of two runs). */
const SAY_WAIT_AFTER_MS = 1000;

/** The namespace's lock (an abstract socket: a killed holder frees it), taken around a whole run. */
async function lockNamespace(opts: Pick<ProvisionOptions, 'netns' | 'log' | 'signal'>): Promise<HeldLock> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await acquireLock(`provision:${opts.netns ?? ''}`, {
      signal: opts.signal,
      holder: `vnet-virt ${process.argv.slice(2, 3).join(' ')}`.trim(),
      onWait: (holder) => {
        const where = opts.netns === undefined ? 'this namespace' : `namespace ${opts.netns}`;
        timer = setTimeout(() => opts.log?.(`waiting for another run in ${where} to end (pid ${holder})`), SAY_WAIT_AFTER_MS);
      },
    });
  } finally {
    clearTimeout(timer);
  }
}

/** The host as it is, with the devices killed runs created and could not mark. */
async function probe(opts: Pick<ProvisionOptions, 'netns' | 'runner'>, journals: string): Promise<HostFacts> {
  const facts = await readHostFacts(opts.netns, opts.runner);
  const pending = pendingClaims(journals, facts.links);
  return pending.size ? { ...facts, pending } : facts;
}

/** After a run: the entries of killed runs' journals that the run settled (the device is gone, marked, or was handled now). */
function settled(facts: HostFacts, steps: readonly Step[]): (e: JournalEntry) => boolean {
  const devicesOf = (s: Step): readonly string[] => (s.effect.type === 'delete-group' ? s.effect.devices : [s.effect.device]);
  const touched = new Set(steps.flatMap(devicesOf));
  // Deleting one end of a veth pair deletes the other: a killed run's entry for the peer is settled too.
  for (const s of steps)
    if (s.effect.type === 'delete' || s.effect.type === 'delete-group')
      for (const d of devicesOf(s)) {
        const l = facts.links.get(d);
        if (l?.kind === 'veth' && l.link) touched.add(l.link);
      }
  return (e) => {
    const l = facts.links.get(e.device);
    return !l || l.alias !== undefined || touched.has(e.device);
  };
}

async function apply(command: 'up' | 'down', domains: Domains, opts: ProvisionOptions, plan: (intents: Intent[], facts: HostFacts) => Plan): Promise<UpDownReport> {
  const started = await begin(domains, opts, !opts.dryRun);
  let lock = started.lock;
  try {
    const intents = intentsOf(domains, opts.interfaces);
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
    lock ??= await lockNamespace(opts);
    const runner = started.early?.runner ?? opts.runner;
    const journals = journalDir(stateDirOf(opts.stateDir), opts.netns);
    const facts = await probe({ netns: opts.netns, runner }, journals);
    const p = plan(intents, facts);
    report.notes = p.notes.map((n) => n.message);
    for (const n of report.notes) opts.log?.(n);
    if (opts.dryRun) {
      report.steps = p.steps.map(reportStep);
      report.processes = 1;
      return report;
    }
    const journal = p.creates?.length ? writeJournal(journals, p.creates) : undefined;
    try {
      const r = await execute(p, { runner, signal: opts.signal, log: opts.log });
      report.steps = r.done.map(reportStep);
      report.processes = 1 + r.processes;
      pruneJournals(journals, settled(facts, r.done), journal);
    } catch (e) {
      // Undone in full: nothing of ours is left. Leftovers (exit 4) keep the journal, so down removes them.
      if (journal && e instanceof HostError && e.leftovers.length === 0) removeJournal(journal);
      throw e;
    }
    if (journal) removeJournal(journal);
    return report;
  } finally {
    started.early?.close();
    lock?.release();
  }
}

/** Creates what the domains' interfaces and records need, marked as theirs, and brings it up. All or nothing. */
export function up(domains: Domains, opts: ProvisionOptions = {}): Promise<UpDownReport> {
  return apply('up', domains, opts, (intents, facts) => planUp(intents, facts, opts));
}

/** Deletes the devices that carry these domains' markers; anything else is reported and left. */
export function down(domains: Domains, opts: ProvisionOptions = {}): Promise<UpDownReport> {
  return apply('down', domains, opts, (intents, facts) => planDown(intents, facts));
}

export interface CheckReport {
  /** What breaks or changes the guest's network (exit 3). */
  drift: DriftReport[];
  /** What is fine for the guest but not vnet-virt's: a device without this domain's marker (down leaves it). */
  notes: DriftReport[];
}

/** Every difference between the host and what the domains need. */
export async function check(domains: Domains, opts: Pick<ProvisionOptions, 'netns' | 'interfaces' | 'runner' | 'stateDir' | 'log' | 'signal'> = {}): Promise<CheckReport> {
  const started = await begin(domains, opts, false);
  let lock = started.lock;
  let intents: Intent[];
  let facts: HostFacts;
  try {
    intents = intentsOf(domains, opts.interfaces);
    if (intents.every((i) => i.items.length === 0)) return { drift: [], notes: [] };
    lock ??= await lockNamespace(opts);
    facts = await probe({ netns: opts.netns, runner: started.early?.runner ?? opts.runner }, journalDir(stateDirOf(opts.stateDir), opts.netns));
  } finally {
    lock?.release();
  }
  const all = wantsOf(intents).flatMap((w) =>
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
  // Ownership is not drift: the guest's network does not depend on the marker.
  const notes = all
    .filter((d) => d.kind === 'not-ours')
    .map((d) => (facts.pending?.has(d.device) ? d : { ...d, message: `${d.message.replace(/ \(interface [^)]*\)$/, '')}: down will leave it (interface ${d.interface})` }));
  return { drift: all.filter((d) => d.kind !== 'not-ours'), notes };
}
