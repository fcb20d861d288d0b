// xmllint names a line and an element, not an XPath: find the element in the file.
import { childElements, localName, parseXml, xpathOf } from '../domain/xml.js';
import type { XmlElement } from '../domain/xml.js';
import type { SchemaProblem } from '../schema/libvirt.js';

function find(el: XmlElement, line: number, name: string | undefined): XmlElement | undefined {
  if (el.line === line && (name === undefined || localName(el) === name || el.name === name)) return el;
  for (const c of childElements(el)) {
    const hit = find(c, line, name);
    if (hit) return hit;
  }
  return undefined;
}

/** Fills in the XPath of problems that have a line, from the file's text. */
export function locateProblems(text: string, problems: SchemaProblem[]): SchemaProblem[] {
  if (!problems.some((p) => p.line > 0 && p.xpath === undefined)) return problems;
  let root: XmlElement;
  try {
    root = parseXml(text).root;
  } catch {
    return problems;
  }
  return problems.map((p) => {
    if (p.line <= 0 || p.xpath !== undefined) return p;
    const el = find(root, p.line, p.element) ?? find(root, p.line, undefined);
    return el ? { ...p, xpath: xpathOf(el) } : p;
  });
}
