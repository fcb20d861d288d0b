// Fills the XML shapes in templates/ (see templates/README.md for the rules).
import { readFileSync } from 'node:fs';
import { escapeAttr } from './xml.js';

const cache = new Map<string, string>();
const TEMPLATES = new URL('../../../templates/', import.meta.url);

export type TemplateValues = Record<string, string | number | undefined>;

export function renderTemplate(name: string, values: TemplateValues, raw: Record<string, string> = {}): string {
  let source = cache.get(name);
  if (source === undefined) {
    source = readFileSync(new URL(`${name}.xml`, TEMPLATES), 'utf8').replace(/\r?\n$/, '');
    cache.set(name, source);
  }
  const out: string[] = [];
  for (const line of source.split(/\r?\n/)) {
    const rawKey = line.trim().match(/^\{\{(\w+)\}\}$/)?.[1];
    if (rawKey !== undefined) {
      const indent = line.match(/^ */)![0];
      if (raw[rawKey] !== undefined) out.push(...raw[rawKey]!.split('\n').map((l) => indent + l));
      continue;
    }
    const withOptional = line.replace(/ ([\w:-]+)="\{\{(\w+)\?\}\}"/g, (_m, attrName: string, key: string) =>
      values[key] === undefined ? '' : ` ${attrName}="${escapeAttr(String(values[key]))}"`,
    );
    let missing = false;
    const filled = withOptional.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => {
      const v = values[key];
      if (v === undefined) missing = true;
      return v === undefined ? '' : escapeAttr(String(v));
    });
    if (!missing) out.push(filled);
  }
  return out.join('\n');
}
