// DomainDoc: the domain XML as text plus a tree with offsets. Reads go through
// the tree; edits splice text into the original, so every byte nobody touched
// survives (comments, quoting, indentation, CRLF, unknown elements).
import { inputError } from '../errors.js';
import { child, childElements, parseXml, textContent, XmlSyntaxError, xpathOf } from './xml.js';
import type { XmlElement, XmlNode } from './xml.js';

export class DomainDoc {
  readonly root: XmlElement;
  readonly eol: string;

  private constructor(
    readonly text: string,
    /** How the file is named in messages ('-' is stdin). */
    readonly file: string,
    root: XmlElement,
    eol: string,
  ) {
    this.root = root;
    this.eol = eol;
  }

  static parse(text: string, file: string): DomainDoc {
    let tree;
    try {
      tree = parseXml(text);
    } catch (e) {
      if (e instanceof XmlSyntaxError)
        throw inputError('E_XML_SYNTAX', `not well-formed XML: ${e.message}`, {
          file,
          where: `line ${e.line}`,
          hint: 'fix the XML (xmllint --noout shows the same place)',
        });
      throw e;
    }
    if (tree.root.name !== 'domain')
      throw inputError('E_NOT_DOMAIN', `root element is <${tree.root.name}>, not <domain>`, {
        file,
        where: `/${tree.root.name}`,
        hint: 'give a libvirt domain XML (virsh dumpxml NAME)',
      });
    return new DomainDoc(text, file, tree.root, tree.eol);
  }

  get name(): string | undefined {
    const el = child(this.root, 'name');
    return el ? textContent(this.text, el).trim() : undefined;
  }

  get uuid(): string | undefined {
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

  /** The white space before an element on its line, or undefined when it shares the line with something else. */
  indentOf(el: XmlElement | XmlNode): string | undefined {
    const lineStart = this.text.lastIndexOf('\n', el.start - 1) + 1;
    const lead = this.text.slice(lineStart, el.start);
    return /^[ \t]*$/.test(lead) ? lead : undefined;
  }

  /** One level of indentation as the file uses it. */
  indentUnit(): string {
    const rootIndent = this.indentOf(this.root) ?? '';
    for (const c of childElements(this.root)) {
      const i = this.indentOf(c);
      if (i !== undefined && i.length > rootIndent.length && i.startsWith(rootIndent)) return i.slice(rootIndent.length);
    }
    return '  ';
  }

  /** The quote the file mostly uses around attribute values. */
  quote(): '"' | "'" {
    const single = this.text.match(/=\s*'/g)?.length ?? 0;
    const double = this.text.match(/=\s*"/g)?.length ?? 0;
    return single > double ? "'" : '"';
  }

  /** Re-indents a block written with two-space levels and '\n' to this file's style. */
  formatBlock(block: string, baseIndent: string): string {
    const unit = this.indentUnit();
    const q = this.quote();
    return block
      .split('\n')
      .map((line) => {
        const lead = line.match(/^ */)![0].length / 2;
        const body = line.trimStart();
        return baseIndent + unit.repeat(lead) + (q === "'" ? body.replace(/="([^"']*)"/g, "='$1'") : body);
      })
      .join(this.eol);
  }

  // ---- edits: each returns a new DomainDoc ----

  splice(start: number, end: number, insert: string): DomainDoc {
    return DomainDoc.parse(this.text.slice(0, start) + insert + this.text.slice(end), this.file);
  }

  /**
   * Appends a child element block to `parent`, after `after` (default: its last
   * child element or comment), indented like its siblings, on lines of its own.
   */
  appendChild(parent: XmlElement, block: string, after?: XmlElement): DomainDoc {
    const parentIndent = this.indentOf(parent) ?? '';
    const anchor =
      after ?? [...parent.children].reverse().find((c) => c.kind === 'element' || c.kind === 'comment');
    if (anchor) {
      const indent = this.indentOf(anchor) ?? parentIndent + this.indentUnit();
      return this.splice(anchor.end, anchor.end, this.eol + this.formatBlock(block, indent));
    }
    const childIndent = parentIndent + this.indentUnit();
    const formatted = this.formatBlock(block, childIndent);
    if (parent.selfClosing) {
      const open = this.text.slice(parent.start, parent.end - 2).trimEnd() + '>';
      return this.splice(
        parent.start,
        parent.end,
        `${open}${this.eol}${formatted}${this.eol}${parentIndent}</${parent.name}>`,
      );
    }
    const inner = this.text.slice(parent.openEnd, parent.closeStart);
    const tail = inner.includes('\n') ? '' : this.eol + parentIndent;
    return this.splice(parent.openEnd, parent.openEnd, this.eol + formatted + tail);
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
    return el.children.every(
      (c) => c.kind === 'text' && !/\S/.test(this.text.slice(c.start, c.end)),
    );
  }
}
