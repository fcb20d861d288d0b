// attach-* and detach on a libvirt domain by name: the persistent definition
// is read with dumpxml --inactive and written back with a define; --live also
// changes the running guest (host devices, hot-plug, live metadata). Each
// step registers its undo as it succeeds; a failure unwinds them newest first.
import { ExitCode, inputError, VnetError } from '../errors.js';
import { interfacesOf } from '../domain/interfaces.js';
import { HostError } from '../host/executor.js';
import type { HeldLock } from '../host/lock.js';
import { isActive, LibvirtDomain } from '../libvirt/domain.js';
import { RECORD_KEY, RECORD_NS, recordForMetadata } from '../libvirt/metadata.js';
import type { LibvirtConn } from '../libvirt/conn.js';
import { DomainDoc } from '../domain/doc.js';
import { removeRecordEntry } from '../domain/patch.js';
import { findRecord } from '../domain/record.js';
import { attachJson, planAttach } from './attach.js';
import type { AttachResult, CommonAttachOptions, SpecBuilder } from './attach.js';
import { detachBy, detachJson, planDetach } from './detach.js';
import type { DetachOptions, DetachResult } from './detach.js';
import { connectFor, readDefinition } from './domain-source.js';
import type { DomainSourceOptions } from './domain-source.js';
import { unifiedDiff } from './io.js';
import { stderrLog } from './up.js';

/** How long detach --live waits for the guest to let go of the interface. */
export const UNPLUG_WAIT_MS = 10_000;
/** How long a by-name edit waits for another vnet-virt edit of the same domain. */
export const DOMAIN_LOCK_WAIT_MS = 120_000;
const POLL_MS = 100;

export interface ByNameOptions extends DomainSourceOptions {
  printDiff?: boolean | undefined;
  json?: boolean | undefined;
  /** Show the change; define, provision and hot-plug nothing. */
  dryRun?: boolean | undefined;
  provision?: boolean | undefined;
  netns?: string | undefined;
  createBridge?: boolean | undefined;
}

/** Test seams: how long to wait, and where log lines go. */
export interface ByNameDeps {
  /** The connection (or its opening, started while the command's modules load); the run closes it. */
  conn?: LibvirtConn | Promise<LibvirtConn>;
  unplugWaitMs?: number;
  log?: (line: string) => void;
  /** Tests: where the host devices are made and deleted (default: host/provision's up and down). */
  provision?: ProvisionSeam;
}

/** Creates or deletes the host devices of one interface of a domain. */
export interface ProvisionSeam {
  up(doc: DomainDoc, dev: string, o: ByNameOptions, log: (l: string) => void): Promise<boolean>;
  down(doc: DomainDoc, dev: string, o: ByNameOptions, log: (l: string) => void): Promise<void>;
}

/** The host part through host/provision: the namespace's lock, the journal of what is being made, the marker. */
const hostProvision: ProvisionSeam = {
  async up(doc, dev, o, log) {
    const { up } = await import('../host/provision.js');
    const r = await up([doc], { netns: o.netns, interfaces: [dev], createBridge: o.createBridge, log });
    return r.steps.length > 0;
  },
  async down(doc, dev, o, log) {
    const { down } = await import('../host/provision.js');
    await down([doc], { netns: o.netns, interfaces: [dev], log });
  },
};

const message = (e: unknown): string => (e instanceof VnetError ? e.oneLine() : e instanceof Error ? e.message : String(e));

/** Undo actions registered as each step succeeds; a failure runs them newest first. */
class Undo {
  private readonly steps: { what: string; run: () => Promise<void> }[] = [];

  push(what: string, run: () => Promise<void>): void {
    this.steps.push({ what, run });
  }

  /** Undoes everything and throws: the cause (exit 1, or its own code) when the undo worked, exit 4 with what is left. */
  async unwind(cause: unknown): Promise<never> {
    const left: string[] = [];
    // Silent: the one error line names what was undone.
    for (const s of this.steps.reverse()) {
      try {
        await s.run();
      } catch (e) {
        left.push(`${s.what} failed (${message(e)})`);
      }
    }
    const undone = this.steps.length === 0 ? '' : `; undone: ${this.steps.map((s) => s.what).join(', ')}`;
    if (left.length === 0) {
      if (!(cause instanceof VnetError)) throw cause;
      if (!undone) throw cause;
      throw new VnetError(`${cause.message}${undone}`, {
        code: cause.code,
        exitCode: cause.exitCode === ExitCode.hostFailedLeftovers ? ExitCode.hostFailedUndone : cause.exitCode,
        file: cause.file,
        where: cause.where,
        hint: cause.hint,
        cause,
      });
    }
    throw new VnetError(`${message(cause)}; the undo failed too, left behind: ${left.join('; ')}`, {
      code: 'E_LEFTOVERS',
      exitCode: ExitCode.hostFailedLeftovers,
      hint: 'fix the listed items by hand',
      cause,
    });
  }
}

/** Whether this run also changes the running guest; refuses --live on a domain that is not running. */
function liveMode(dom: LibvirtDomain, o: ByNameOptions): boolean {
  const live = o.live === true || o.liveOnly === true;
  if (live && !isActive(dom.info))
    throw inputError('E_NOT_RUNNING', `${dom.info.name} is ${dom.info.state}: --live needs a running guest`, {
      file: dom.label,
      where: o.liveOnly ? '--live-only' : '--live',
      hint: `leave out --live to change only the persistent definition, or start it first (virsh -c ${dom.conn.uri} start ${dom.info.name})`,
    });
  if (!live && !dom.info.persistent)
    throw inputError('E_TRANSIENT', `${dom.info.name} is transient: it has no persistent definition to change`, {
      file: dom.label,
      where: '--domain',
      hint: 'add --live to change the running guest',
    });
  return live;
}

/** The text of the interface element with this MAC, for attach-device / detach-device. */
function interfaceText(doc: DomainDoc, mac: string): string {
  const i = interfacesOf(doc).find((x) => x.mac === mac);
  const el = i && doc.interfaceElements()[i.index];
  if (!el) throw new Error(`no interface with MAC ${mac} in ${doc.file}`);
  return doc.text.slice(el.start, el.end);
}

/** Polls the live definition until no interface has `mac`; a timeout is a failure (the guest kept it). */
async function waitUnplugged(dom: LibvirtDomain, mac: string, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  for (;;) {
    const doc = await readDefinition(dom, 'live');
    if (!interfacesOf(doc).some((i) => i.mac === mac)) return;
    if (Date.now() >= until)
      throw new VnetError(`the guest did not release the interface with MAC ${mac} within ${waitMs / 1000} s (virsh detach-device returned, the device is still in the live definition)`, {
        code: 'E_UNPLUG_TIMEOUT',
        exitCode: ExitCode.hostFailedUndone,
        file: dom.label,
        hint: 'the guest may ignore ACPI hot-unplug (no acpiphp/pciehp); the request may still complete: check virsh dumpxml, then run detach --live again, or shut the guest down',
      });
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface Opened {
  dom: LibvirtDomain;
  live: boolean;
  pdoc?: DomainDoc;
  ldoc?: DomainDoc;
  /** Held from before the reads to the end: vnet-virt's edits of one domain never interleave. */
  lock?: HeldLock;
}

/** vnet-virt's own edits of one domain, one at a time (an abstract socket, as host/lock.ts does per namespace). */
async function lockDomain(dom: LibvirtDomain, log: (l: string) => void): Promise<HeldLock> {
  const { acquireLock, lockTimeout } = await import('../host/lock.js');
  return acquireLock(`libvirt:${dom.conn.uri}:${dom.info.uuid}`, {
    waitMs: DOMAIN_LOCK_WAIT_MS,
    holder: `vnet-virt ${process.argv.slice(2, 3).join(' ')}`.trim(),
    onWait: (holder) => log(`${dom.label}: waiting for another vnet-virt edit of this domain to end (pid ${holder})`),
    timeoutError: lockTimeout('E_DOMAIN_BUSY', `another vnet-virt edit of ${dom.label} has not ended: wait for it, then run this again`),
  });
}

/**
 * The domain, then (under its lock) the definitions this run needs, read at
 * once: dumpxml --inactive (unless --live-only) and, with --live, the live one.
 */
async function open(o: ByNameOptions, deps: ByNameDeps, log: (l: string) => void): Promise<Opened> {
  const conn = await (deps.conn ?? connectFor(o));
  let dom: LibvirtDomain;
  try {
    dom = await LibvirtDomain.lookup(conn, o.domain!);
  } catch (e) {
    conn.close();
    throw e;
  }
  let lock: HeldLock | undefined;
  try {
    const live = liveMode(dom, o);
    lock = o.dryRun ? undefined : await lockDomain(dom, log);
    const [p, l] = await Promise.all([dom.info.persistent && !o.liveOnly ? dom.dumpxml('persistent') : undefined, live ? dom.dumpxml('live') : undefined]);
    return {
      dom,
      live,
      ...(p !== undefined && { pdoc: DomainDoc.parse(p, dom.label) }),
      ...(l !== undefined && { ldoc: DomainDoc.parse(l, dom.label) }),
      ...(lock && { lock }),
    };
  } catch (e) {
    lock?.release();
    conn.close();
    throw e;
  }
}

/**
 * Defines `after` if the persistent definition is still `before`: a define by
 * someone else since the read would otherwise be lost without a word.
 */
async function defineIfUnchanged(dom: LibvirtDomain, before: DomainDoc, after: DomainDoc): Promise<void> {
  const now = await dom.dumpxml('persistent');
  if (now !== before.text)
    throw inputError('E_CHANGED_WHILE_EDITING', 'the persistent definition changed while vnet-virt was editing it (another define); nothing defined', {
      file: dom.label,
      where: '--domain',
      hint: 'run the command again: it reads the new definition',
    });
  await dom.define(after.text);
}

/** Runs independent steps at once; each that succeeded registers its undo, then the first failure is thrown. */
async function together(undo: Undo, steps: { what: string; run: () => Promise<void>; undo: () => Promise<void> }[]): Promise<void> {
  const results = await Promise.allSettled(steps.map((s) => s.run()));
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') undo.push(steps[i]!.what, steps[i]!.undo);
  });
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

interface Outcome {
  defined: boolean;
  live: 'hot-plugged' | 'unplugged' | 'unchanged' | null;
}

async function report(
  dom: LibvirtDomain,
  shown: { before: DomainDoc; after: DomainDoc },
  definition: 'persistent' | 'live',
  outcome: Outcome,
  o: ByNameOptions,
  out: (s: string) => void,
  json: (emitted: object) => Record<string, unknown>,
): Promise<void> {
  const diff = o.printDiff ? await unifiedDiff(dom.label, shown.before.text, shown.after.text) : undefined;
  const libvirt = {
    uri: dom.conn.uri,
    domain: dom.info.name,
    uuid: dom.info.uuid,
    definition,
    defined: outcome.defined,
    live: outcome.live,
    dryRun: o.dryRun === true,
  };
  if (o.json) out(JSON.stringify({ ...json({ output: null, written: outcome.defined, ...(diff !== undefined && { diff }) }), libvirt }) + '\n');
  else if (diff !== undefined) out(diff);
}

export async function runAttachByName<O extends CommonAttachOptions & ByNameOptions>(
  command: string,
  opts: O,
  build: SpecBuilder<O>,
  out: (s: string) => void,
  deps: ByNameDeps = {},
): Promise<void> {
  const log = deps.log ?? stderrLog;
  const host = deps.provision ?? hostProvision;
  // Loaded while libvirt answers.
  if (!opts.dryRun && (opts.live || opts.liveOnly || opts.provision)) void import('../host/provision.js').catch(() => {});
  const derive = build(opts);
  const { dom, live, pdoc, ldoc: read, lock } = await open(opts, deps, log);
  try {
    const { spec, named, given } = derive((pdoc ?? read)!);
    // A record entry left in the live definition without its interface (a run killed before its hot-plug) is stale: plan without it.
    const ldoc = read && spec.type === 'ethernet' && staleEntry(read, spec.dev) ? removeRecordEntry(read, spec.dev) : read;
    const pres = pdoc && planAttach(pdoc, spec, given, named);
    const lres = ldoc && planAttach(ldoc, spec, given, named);
    const shown: AttachResult = (pres ?? lres)!;
    const outcome: Outcome = { defined: false, live: live ? 'unchanged' : null };

    if (!opts.dryRun) {
      const undo = new Undo();
      try {
        // The records first, then the devices, then the hot-plug: a run killed at any point leaves no device that
        // no record names (detach finds and deletes it), and running the attach again completes it.
        const liveRecord = lres?.action === 'added' ? recordChange(read!, lres.after) : undefined;
        await together(undo, [
          ...(pres?.action === 'added'
            ? [{ what: 'restore the persistent definition', run: () => defineIfUnchanged(dom, pdoc!, pres.after), undo: () => dom.define(pdoc!.text) }]
            : []),
          ...(liveRecord ? [{ what: 'restore the live record', run: () => setRecord(dom, liveRecord.now), undo: () => setRecord(dom, liveRecord.was) }] : []),
        ]);
        outcome.defined = pres?.action === 'added';
        // The device must exist before the hot-plug: libvirt refuses a managed='no' target it cannot open.
        if (spec.entry && (live || opts.provision)) {
          const doc = (lres ?? pres)!.after;
          if (await host.up(doc, spec.dev, opts, log)) undo.push(`delete the devices of ${spec.dev}`, () => host.down(doc, spec.dev, opts, () => {}));
        }
        if (lres?.action === 'added') {
          const block = interfaceText(lres.after, spec.mac);
          await dom.attachLive(block);
          outcome.live = 'hot-plugged';
          undo.push(`unplug ${spec.mac}`, async () => {
            await dom.detachLive(block);
            await waitUnplugged(dom, spec.mac, deps.unplugWaitMs ?? UNPLUG_WAIT_MS);
          });
        }
      } catch (e) {
        await undo.unwind(e);
      }
    }
    if (!opts.json && !opts.dryRun) log(`${dom.label}: ${shown.action === 'added' ? 'added' : 'already has'} ${spec.dev}${summary(outcome)}`);
    await report(dom, shown, pres ? 'persistent' : 'live', outcome, opts, out, (emitted) => attachJson(command, dom.label, shown, emitted as never));
  } finally {
    lock?.release();
    dom.conn.close();
  }
}

/** Whether `doc`'s record has an entry for `dev` while no interface uses it. */
function staleEntry(doc: DomainDoc, dev: string): boolean {
  return (findRecord(doc)?.entries.some((e) => e.entry.dev === dev) ?? false) && !interfacesOf(doc).some((i) => i.targetDev === dev);
}

/** The live definition's record follows the live interfaces (the hook's `release end` reads it); undefined when it stays. */
function recordChange(before: DomainDoc, after: DomainDoc): { was: string | undefined; now: string | undefined } | undefined {
  const was = recordForMetadata(before);
  const now = recordForMetadata(after);
  return was === now ? undefined : { was, now };
}

const setRecord = (dom: LibvirtDomain, xml: string | undefined): Promise<void> => dom.setLiveMetadata(RECORD_NS, RECORD_KEY, xml);

const summary = (o: Outcome): string => {
  const parts = [o.defined ? 'defined' : 'nothing to define', ...(o.live && o.live !== 'unchanged' ? [o.live] : o.live ? ['live unchanged'] : [])];
  return ` (${parts.join(', ')})`;
};

export async function runDetachByName(opts: DetachOptions & ByNameOptions, out: (s: string) => void, deps: ByNameDeps = {}): Promise<void> {
  const log = deps.log ?? stderrLog;
  const host = deps.provision ?? hostProvision;
  const by = detachBy(opts);
  if (!opts.dryRun && opts.live) void import('../host/provision.js').catch(() => {});
  const { dom, live, pdoc, ldoc, lock } = await open(opts, deps, log);
  try {
    // With --live the interface may be in only one of the two definitions; it must be in one.
    const find = (doc: DomainDoc | undefined, other: DomainDoc | undefined): DetachResult | undefined => {
      if (!doc) return undefined;
      try {
        return planDetach(doc, by);
      } catch (e) {
        if (other && e instanceof VnetError && e.code === 'E_NOT_FOUND') {
          try {
            planDetach(other, by);
            return undefined;
          } catch {
            throw e;
          }
        }
        throw e;
      }
    };
    const pres = find(pdoc, ldoc);
    const lres = find(ldoc, pdoc);
    const shown = (pres ?? lres)!;
    const outcome: Outcome = { defined: false, live: live ? 'unchanged' : null };
    const removed = lres?.removed ?? pres?.removed ?? null;

    if (!opts.dryRun) {
      const undo = new Undo();
      try {
        if (lres?.removed?.mac) {
          const mac = lres.removed.mac;
          const block = interfaceText(ldoc!, mac);
          await dom.detachLive(block);
          // virsh can say "detached" while the guest still holds the device: wait until it left the live XML.
          await waitUnplugged(dom, mac, deps.unplugWaitMs ?? UNPLUG_WAIT_MS);
          outcome.live = 'unplugged';
        }
      } catch (e) {
        await undo.unwind(e);
      }
      // Only now that no guest holds them, and while the records still name them (a run killed here is finished
      // by running it again): the devices that carry this domain's marker.
      const entry = lres?.entry ?? pres?.entry;
      if (live && entry) {
        try {
          await host.down(lres?.entry ? ldoc! : pdoc!, entry.dev, opts, log);
        } catch (e) {
          if (e instanceof HostError) throw new VnetError(`${e.message} (the interface itself was detached)`, { code: e.code, exitCode: ExitCode.hostFailedLeftovers, file: dom.label, hint: e.hint });
          throw e;
        }
      }
      const liveRecord = lres ? recordChange(ldoc!, lres.after) : undefined;
      try {
        await together(undo, [
          ...(pres ? [{ what: 'restore the persistent definition', run: () => defineIfUnchanged(dom, pdoc!, pres.after), undo: () => dom.define(pdoc!.text) }] : []),
          ...(liveRecord ? [{ what: 'restore the live record', run: () => setRecord(dom, liveRecord.now), undo: () => setRecord(dom, liveRecord.was) }] : []),
        ]);
      } catch (e) {
        const done = outcome.live === 'unplugged' ? `the interface is out of the guest${live && (lres?.entry ?? pres?.entry) ? ' and its devices are deleted' : ''}` : '';
        const cause =
          done && e instanceof VnetError
            ? new VnetError(e.message, { code: e.code, exitCode: e.exitCode, file: e.file, where: e.where, hint: `${done}: run the same detach again to finish`, cause: e })
            : e;
        await undo.unwind(cause);
      }
      outcome.defined = pres !== undefined;
    }
    if (!opts.json && !opts.dryRun) log(`${dom.label}: removed ${removed?.targetDev ?? removed?.mac ?? shown.entry?.dev ?? 'the record entry'}${summary(outcome)}`);
    await report(dom, shown, pres ? 'persistent' : 'live', outcome, opts, out, (emitted) => detachJson(dom.label, shown, emitted));
  } finally {
    lock?.release();
    dom.conn.close();
  }
}
