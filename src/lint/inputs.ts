// What to lint: named files, '-' for stdin, and folders searched recursively for *.xml.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { usageError } from '../errors.js';
import { isRegularEntry, readXmlBytes } from '../domain/read.js';
import type { WorkItem } from './lane.js';

/** Paths not linted: a test on a path relative to `base`, '/'-separated. */
export interface IgnoreRule {
  base: string;
  matches: (relPath: string) => boolean;
}

const ignored = (p: string, ignore: readonly IgnoreRule[]): boolean =>
  ignore.some(({ base, matches }) => {
    const rel = relative(base, resolve(p));
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && matches(rel.split(sep).join('/'));
  });

function walk(dir: string, out: string[], ignore: readonly IgnoreRule[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (ignored(p, ignore)) continue;
    // Symbolic links to folders are not followed: no loops, no surprises outside the tree.
    if (e.isDirectory()) walk(p, out, ignore);
    else if (e.name.endsWith('.xml') && isRegularEntry(dir, e)) out.push(p);
  }
}

/** The work items of the inputs; a folder without a *.xml file (after `ignore`) is a usage error, as in ESLint. */
export function expandInputs(
  args: readonly string[],
  note: (m: string) => void = () => {},
  ignore: readonly IgnoreRule[] = [],
  onEmpty: (folder: string) => void = (folder) => {
    throw usageError('E_NO_INPUT', `no domain XML found in ${folder}`, { hint: 'name a folder that holds *.xml domain files, or the files themselves' });
  },
): WorkItem[] {
  const items: WorkItem[] = [];
  const seen = new Set<string>();
  const add = (item: Omit<WorkItem, 'index'>): void => {
    if (seen.has(item.file)) return;
    seen.add(item.file);
    items.push({ ...item, index: items.length });
  };
  for (const arg of args) {
    if (arg === '-') {
      add({ file: '<stdin>', data: readXmlBytes('-') });
      continue;
    }
    let st;
    try {
      st = statSync(arg);
    } catch {
      // Read by its lane, which reports it as a file-unreadable finding: the other inputs are still linted.
      add({ file: arg, path: arg });
      continue;
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      walk(arg, found, ignore);
      if (found.length === 0) onEmpty(arg);
      for (const p of found) add({ file: p, path: p });
    } else if (ignored(arg, ignore)) note(`${arg}: ignored (--ignore or the config's ignore)`);
    else if (st.isFile()) add({ file: arg, path: arg });
    // A FIFO or a device is read once, here and bounded: the lanes and xmllint would each read it otherwise.
    else add({ file: arg, data: readXmlBytes(arg) });
  }
  return items;
}
