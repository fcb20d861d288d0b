// DomainDoc: the domain XML as text plus a tree with offsets. Reads go through
// the tree; edits splice text into the original, so every byte nobody touched
// survives (comments, quoting, indentation, CRLF, unknown elements).
import { inputError } from '../errors.js';
import { child, childElements, NOT_XML_SPACE, parseXml, textContent, XmlSyntaxError, xpathOf } from './xml.js';
import type { ParseOptions, XmlElement, XmlNode } from './xml.js';

export class DomainDoc {
  readonly root: XmlElement;
  readonly eol: string;

  private constructor(
    readonly text: string,
    /** How the file is named in messages ('-' is stdin). */
    readonly file: string,
    root: XmlElement,
    eol: string,
    /** false: the tree holds elements only (ParseOptions.keepText): no text reads, no edits. */
    readonly textKept = true,
  ) {
    this.root = root;
    this.eol = eol;
  }

  /** `options.keepText: false` gives a read-only document for readers of elements and attributes (lint). */
  static parse(text: string, file: string, options: ParseOptions = {}): DomainDoc {
    let tree;
    try {
      tree = parseXml(text, options);
    } catch (e) {
      if (e instanceof XmlSyntaxError)
        throw inputError('E_XML_SYNTAX', `not well-formed XML: ${e.message}`, {
          file,
          where: `line ${e.line}`,
          hint: 'fix the XML (xmllint --noout shows the same place)',
          cause: e,
        });
      throw e;
    }
    if (tree.root.name !== 'domain')
      throw inputError('E_NOT_DOMAIN', `root element is <${tree.root.name}>, not <domain>`, {
        file,
        where: `/${tree.root.name}`,
        hint: 'give a libvirt domain XML (virsh dumpxml NAME)',
      });
    return new DomainDoc(text, file, tree.root, tree.eol, options.keepText !== false);
  }

  /** A document parsed without its text nodes must not answer text reads or edits wrongly: it refuses them. */
  private needText(what: string): void {
    if (!this.textKept) throw new Error(`DomainDoc.${what} needs a document parsed with its text (keepText)`);
  }

  get name(): string | undefined {
    this.needText('name');
    const el = child(this.root, 'name');
    return el ? textContent(this.text, el).trim() : undefined;
  }

  get uuid(): string | undefined {
    this.needText('uuid');
    const el = child(this.root, 'uuid');
    return el ? textContent(this.text, el).trim().toLowerCase() : undefined;
  }

  /** What derived names and MACs are keyed on: the UUID, else the name. */
  get identity(): string {
    return this.uuid ?? `name:${this.name ?? ''}`;
  }

  get devices(): XmlElement | undefined {
    return child(this.root, 'devices');
  }

  get metadata(): XmlElement | undefined {
    return child(this.root, 'metadata');
  }

  /** Interfaces that are direct children of <devices>, in document order. */
  interfaceElements(): XmlElement[] {
    const devices = this.devices;
    return devices ? childElements(devices, 'interface') : [];
  }

  lineOf(el: XmlElement): number {
    return el.line;
  }

  xpath(el: XmlElement): string {
    return xpathOf(el);
  }

  // ---- layout ----

  /** The white space before a node on its line, or undefined when something else precedes it on that line. */
  indentOf(node: XmlNode): string | undefined {
    // Back over spaces and tabs only: siblings sharing a line cost one character each, not the line.
    const text = this.text;
    let i = node.start;
    while (i > 0 && (text.charCodeAt(i - 1) === 0x20 || text.charCodeAt(i - 1) === 0x09)) i--;
    return i === 0 || text.charCodeAt(i - 1) === 0x0a ? text.slice(i, node.start) : undefined;
  }

  /** One level of indentation as the file uses it: seen under `parent` first, then under the root; else two spaces. */
  indentUnit(parent: XmlElement = this.root): string {
    for (const p of parent === this.root ? [parent] : [parent, this.root]) {
      const base = this.indentOf(p) ?? '';
      for (const c of childElements(p)) {
        const i = this.indentOf(c);
        if (i !== undefined && i.length > base.length && i.startsWith(base)) return i.slice(base.length);
      }
    }
    return '  ';
  }

  /** The quote the file's attributes mostly use (double on a tie). */
  quote(): '"' | "'" {
    let single = 0;
    let double = 0;
    const todo: XmlElement[] = [this.root];
    for (let el = todo.pop(); el; el = todo.pop()) {
      for (const a of el.attrs) {
        if (this.text[a.end - 1] === "'") single++;
        else double++;
      }
      for (const c of el.children) if (c.kind === 'element') todo.push(c);
    }
    return single > double ? "'" : '"';
  }

  /** Re-indents a block written with two-space levels and '\n' to this file's indentation, quotes and line ending. */
  formatBlock(block: string, baseIndent: string, unit = this.indentUnit(), eol = this.eol): string {
    const q = this.quote();
    return block
      .split('\n')
      .map((line) => {
        const level = line.match(/^ */)![0].length / 2;
        const body = line.trimStart();
        return baseIndent + unit.repeat(level) + (q === "'" ? body.replace(/="([^"']*)"/g, "='$1'") : body);
      })
      .join(eol);
  }

  /**
   * Where text inserted after `offset` leaves every line of the file whole: the
   * end of that line when only white space and comments follow there, else `offset`.
   */
  private insertionPoint(offset: number): number {
    const text = this.text;
    let p = offset;
    for (;;) {
      while (text[p] === ' ' || text[p] === '\t') p++;
      if (!text.startsWith('<!--', p)) break;
      const close = text.indexOf('-->', p);
      const br = text.indexOf('\n', p);
      if (close === -1 || (br !== -1 && br < close)) return offset;
      p = close + 3;
    }
    if (p === text.length || text[p] === '\n') return p;
    if (text[p] === '\r' && text[p + 1] === '\n') return p;
    return offset;
  }

  // ---- edits: each returns a new DomainDoc ----

  splice(start: number, end: number, insert: string): DomainDoc {
    this.needText('splice');
    return DomainDoc.parse(this.text.slice(0, start) + insert + this.text.slice(end), this.file);
  }

  /**
   * Inserts a child element block into `parent` on lines of its own, indented
   * like its siblings: after `after`, first when `after` is null, and by default
   * after the last child element or comment. The inserted text is always the
   * file's line ending, the indentation and the block, so removeElement undoes it exactly.
   */
  appendChild(parent: XmlElement, block: string, after?: XmlNode | null): DomainDoc {
    const parentIndent = this.indentOf(parent) ?? '';
    const unit = this.indentUnit(parent);
    if (parent.selfClosing) {
      const open = this.text.slice(parent.start, parent.end - 2).trimEnd() + '>';
      const formatted = this.formatBlock(block, parentIndent + unit, unit);
      return this.splice(parent.start, parent.end, `${open}${this.eol}${formatted}${this.eol}${parentIndent}</${parent.name}>`);
    }
    const anchor =
      after === undefined ? [...parent.children].reverse().find((c) => c.kind === 'element' || c.kind === 'comment') : after;
    const sibling = anchor ?? parent.children.find((c) => c.kind === 'element' || c.kind === 'comment');
    const indent = (sibling && this.indentOf(sibling)) ?? parentIndent + unit;
    const at = this.insertionPoint(anchor ? anchor.end : parent.openEnd);
    // The line ending of the line we break, so files with mixed endings keep each line whole.
    const eol = this.text[at] === '\r' ? '\r\n' : this.text[at] === '\n' ? '\n' : this.eol;
    const formatted = this.formatBlock(block, indent, unit, eol);
    // An element with nothing in it gets its end tag on a line of its own too.
    if (this.isEmpty(parent) && !this.text.slice(at, parent.closeStart).includes('\n'))
      return this.splice(at, parent.closeStart, `${eol}${formatted}${eol}${parentIndent}`);
    return this.splice(at, at, eol + formatted);
  }

  /** Removes an element and, when it stands on lines of its own, the line break and indentation before it. */
  removeElement(el: XmlElement): DomainDoc {
    let start = el.start;
    const indent = this.indentOf(el);
    if (indent !== undefined) {
      start -= indent.length;
      if (this.text[start - 1] === '\n') start -= this.text[start - 2] === '\r' ? 2 : 1;
    }
    return this.splice(start, el.end, '');
  }

  /** True when an element has no child elements and no text but white space. */
  isEmpty(el: XmlElement): boolean {
    return el.children.every((c) => c.kind === 'text' && !NOT_XML_SPACE.test(this.text.slice(c.start, c.end)));
  }
}
