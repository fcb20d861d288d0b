// What to lint: named files, '-' for stdin, and folders searched recursively for *.xml.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../errors.js';
import { readXmlBytes } from '../domain/read.js';
import type { WorkItem } from './lane.js';

function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    // Symbolic links to folders are not followed: no loops, no surprises outside the tree.
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.xml') && (e.isFile() || (e.isSymbolicLink() && isFile(p)))) out.push(p);
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function expandInputs(args: readonly string[], note: (m: string) => void = () => {}): WorkItem[] {
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
      throw inputError('E_FILE_MISSING', 'no such file or folder', { file: arg, hint: 'check the path' });
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      walk(arg, found);
      if (found.length === 0) note(`${arg}: no *.xml files in this folder`);
      for (const p of found) add({ file: p, path: p });
    } else if (st.isFile()) add({ file: arg, path: arg });
    // A FIFO or a device is read once, here and bounded: the lanes and xmllint would each read it otherwise.
    else add({ file: arg, data: readXmlBytes(arg) });
  }
  return items;
}
