// xmllint names a line and an element, not an XPath: find the element in the file.
import { childElements, localName, parseXml, xpathOf } from '../domain/xml.js';
import type { XmlElement } from '../domain/xml.js';
import type { SchemaProblem } from '../schema/libvirt.js';

/** Every element by the line of its start tag, in document order: one walk, however many problems. */
function byLine(root: XmlElement): Map<number, XmlElement[]> {
  const lines = new Map<number, XmlElement[]>();
  const todo: XmlElement[] = [root];
  for (let el = todo.pop(); el; el = todo.pop()) {
    const list = lines.get(el.line);
    if (list) list.push(el);
    else lines.set(el.line, [el]);
    const kids = childElements(el);
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]!);
  }
  return lines;
}

/** Fills in the XPath of problems that have a line, from the file's text. */
export function locateProblems(text: string, problems: SchemaProblem[]): SchemaProblem[] {
  if (!problems.some((p) => p.line > 0 && p.xpath === undefined)) return problems;
  let root: XmlElement;
  try {
    root = parseXml(text, { keepText: false }).root;
  } catch {
    return problems;
  }
  const lines = byLine(root);
  return problems.map((p) => {
    if (p.line <= 0 || p.xpath !== undefined) return p;
    const onLine = lines.get(p.line) ?? [];
    const el = onLine.find((e) => p.element === undefined || localName(e) === p.element || e.name === p.element) ?? onLine[0];
    return el ? { ...p, xpath: xpathOf(el) } : p;
  });
}
