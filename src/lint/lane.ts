// One lane of work (the main thread or a worker): its own compiled schema,
// the enabled rules and the host facts, and how it lints one work item.
import { MAX_XML_BYTES, readXmlBytes } from '../domain/read.js';
import { VnetError } from '../errors.js';
import type { HostFacts, Link } from '../host/facts.js';
import { lintBuffer } from './file.js';
import type { FileOutcome, LaneSetup } from './file.js';

/** What a lane needs, in a form that crosses a thread boundary (structured clone). */
export interface LaneConfig {
  /** Folder holding domain.rng, or undefined when schema validation does not run. */
  schemaDir: string | undefined;
  enabled: string[];
  host: { netns: string | undefined; links: Link[] } | undefined;
}

export interface WorkItem {
  index: number;
  /** The name findings carry. */
  file: string;
  /** Where to read it; stdin items carry their bytes instead. */
  path?: string;
  data?: Uint8Array;
}

/** A file that could not be read at all (a VnetError's fields, to rebuild it on the main thread). */
export interface ReadFailure {
  file: string;
  failure: { code: string; message: string; hint: string };
}

export type ItemResult = FileOutcome | ReadFailure;

export const isReadFailure = (r: ItemResult): r is ReadFailure => 'failure' in r;

export async function openLane(config: LaneConfig): Promise<LaneSetup> {
  const host: HostFacts | undefined = config.host && {
    netns: config.host.netns,
    links: new Map(config.host.links.map((l) => [l.name, l])),
  };
  return {
    // libxml2-wasm (a 1 MB module to compile) is loaded only by lanes that validate.
    schema: config.schemaDir === undefined ? undefined : (await import('../schema/relaxng.js')).DomainSchema.load(config.schemaDir),
    enabled: new Set(config.enabled),
    host,
  };
}

// One buffer per thread, reused for every file: no allocation per file.
let scratch: Buffer | undefined;

const tooLarge = (file: string): ReadFailure => ({
  file,
  failure: { code: 'E_TOO_LARGE', message: `is over ${MAX_XML_BYTES} bytes, the limit`, hint: 'a domain XML is far smaller; is this the right file?' },
});

function read(item: WorkItem): Uint8Array | ReadFailure {
  if (item.data) return item.data.length > MAX_XML_BYTES ? tooLarge(item.file) : item.data;
  scratch ??= Buffer.allocUnsafe(MAX_XML_BYTES + 1);
  try {
    return readXmlBytes(item.path!, scratch);
  } catch (e) {
    if (!(e instanceof VnetError)) throw e;
    return { file: item.file, failure: { code: e.code, message: e.message, hint: e.hint ?? '' } };
  }
}

export function lintItem(item: WorkItem, setup: LaneSetup): ItemResult {
  const data = read(item);
  if (!(data instanceof Uint8Array)) return data;
  return lintBuffer(item.file, data, setup);
}
