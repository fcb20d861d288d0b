// vnet-virt show: the guests' NICs and the host-side chain behind each, as a
// terminal tree, Mermaid, DOT or SVG; with --host, compared with what exists.
import { readdirSync } from 'node:fs';
import { cannotWrite, usageError } from '../errors.js';
import { readHostFacts } from '../host/facts.js';
import { NETNS_RUN_DIR } from '../netns/scan.js';
import { topologyOf } from '../show/model.js';
import type { ContainerFacts, Topology } from '../show/model.js';
import { renderDot, renderMermaid, renderText } from '../show/render.js';
import type { DomainSourceOptions } from './domain-source.js';
import { domainDocs } from './up.js';
import { writeFileSafely } from './write-file.js';

export const SHOW_FORMATS = ['text', 'mermaid', 'dot', 'svg'] as const;
export type ShowFormat = (typeof SHOW_FORMATS)[number];

export interface ShowOptions extends DomainSourceOptions {
  host?: boolean;
  netns?: string;
  format?: string;
  output?: string;
  /** Color the text tree: default on a TTY unless NO_COLOR is set. */
  color?: boolean;
}

export function checkShowOptions(opts: ShowOptions): ShowFormat {
  const format = (opts.format ?? 'text') as ShowFormat;
  if (!SHOW_FORMATS.includes(format))
    throw usageError('E_FORMAT', `unknown format '${opts.format}'`, { where: '--format', hint: `give one of ${SHOW_FORMATS.join(', ')}` });
  if (opts.netns !== undefined && !opts.host)
    throw usageError('E_USAGE', '--netns goes with --host', { where: '--netns', hint: 'add --host to compare with the devices of that namespace' });
  return format;
}

/** Named namespaces other than the one the domains' devices live in: where containers' devices are. */
async function containerNamespaces(except: string | undefined): Promise<ContainerFacts[]> {
  let names: string[];
  try {
    names = readdirSync(NETNS_RUN_DIR).filter((n) => n !== except).sort();
  } catch {
    return [];
  }
  const out: ContainerFacts[] = [];
  for (const name of names) {
    try {
      out.push({ name, links: [...(await readHostFacts(name)).links.values()] });
    } catch {
      // a namespace that went away, or that cannot be entered: nothing to draw
    }
  }
  return out;
}

export async function renderTopology(t: Topology, format: ShowFormat, color: boolean): Promise<string> {
  switch (format) {
    case 'mermaid':
      return renderMermaid(t);
    case 'dot':
      return renderDot(t);
    case 'svg':
      return (await import('../show/svg.js')).renderSvg(t);
    default:
      return renderText(t, { color });
  }
}

export async function runShow(inputs: string[], opts: ShowOptions, out: (s: string) => void): Promise<void> {
  const format = checkShowOptions(opts);
  // By name: what the running guest uses (the live definition), unless --inactive, as check does.
  const docs = await domainDocs(inputs, opts, opts.inactive ? 'persistent' : 'live', true);
  const facts = opts.host ? await readHostFacts(opts.netns) : undefined;
  const containers = opts.host ? await containerNamespaces(opts.netns) : undefined;
  const topology = topologyOf({ docs, facts, containers });
  const color = opts.color ?? (opts.output === undefined && process.stdout.isTTY === true && !process.env['NO_COLOR']);
  const text = await renderTopology(topology, format, color);
  if (opts.output === undefined || opts.output === '-') out(text);
  else {
    try {
      writeFileSafely(opts.output, text);
    } catch (e) {
      throw cannotWrite(opts.output, '-o', e);
    }
  }
}
