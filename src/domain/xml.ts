// A strict, non-validating XML parser that keeps the source offsets of every
// element and attribute, so that edits can be spliced into the original text
// and every byte nobody touched survives. No entity expansion beyond the five
// predefined entities and character references; no DTD processing; no I/O.

export interface XmlAttr {
  readonly name: string;
  /** Decoded value. */
  readonly value: string;
  /** Offset of the first character of the attribute name. */
  readonly start: number;
  /** Offset just past the closing quote. */
  readonly end: number;
}

export interface XmlElement {
  readonly kind: 'element';
  readonly name: string;
  readonly attrs: readonly XmlAttr[];
  readonly children: XmlNode[];
  readonly parent: XmlElement | undefined;
  /** Offset of '<' of the start tag. */
  readonly start: number;
  /** Offset just past '>' of the start tag. */
  readonly openEnd: number;
  /** Offset of '<' of the end tag; equals `end` for an empty-element tag. */
  readonly closeStart: number;
  /** Offset just past the element's last '>'. */
  readonly end: number;
  readonly selfClosing: boolean;
  /** 1-based line of the start tag. */
  readonly line: number;
  /** Namespace declarations made on this element (prefix '' is the default). */
  readonly nsDecls: ReadonlyMap<string, string>;
}

export interface XmlText {
  readonly kind: 'text' | 'comment' | 'pi' | 'cdata';
  readonly start: number;
  readonly end: number;
}

export type XmlNode = XmlElement | XmlText;

export interface XmlDocumentTree {
  readonly text: string;
  readonly root: XmlElement;
  /** Everything at the top level, in order: XML declaration, comments, PIs, DOCTYPE, white space, the root. */
  readonly top: readonly XmlNode[];
  /** '\r\n' when the file's first line break is CRLF, else '\n'. */
  readonly eol: string;
}

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

/**
 * A name at `lastIndex` (sticky): one regex run per name, not one per character.
 * XML 1.0 (5th edition) NameStartChar and NameChar exactly, as libxml2 checks them.
 */
const NAME =
  /[A-Za-z_:\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{2FF}\u{370}-\u{37D}\u{37F}-\u{1FFF}\u{200C}-\u{200D}\u{2070}-\u{218F}\u{2C00}-\u{2FEF}\u{3001}-\u{D7FF}\u{F900}-\u{FDCF}\u{FDF0}-\u{FFFD}\u{10000}-\u{EFFFF}][A-Za-z_:\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{2FF}\u{370}-\u{37D}\u{37F}-\u{1FFF}\u{200C}-\u{200D}\u{2070}-\u{218F}\u{2C00}-\u{2FEF}\u{3001}-\u{D7FF}\u{F900}-\u{FDCF}\u{FDF0}-\u{FFFD}\u{10000}-\u{EFFFF}\-.0-9\u{B7}\u{300}-\u{36F}\u{203F}-\u{2040}]*/uy;
const NO_NAMESPACES: ReadonlyMap<string, string> = new Map();
// Shared by the many elements without attributes or children: two arrays fewer to allocate per element.
const NO_ATTRS: readonly XmlAttr[] = Object.freeze([]);
const NO_CHILDREN = Object.freeze([]) as unknown as XmlNode[];
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };
/**
 * Elements nested deeper than this are refused, as libxml2 refuses them
 * (xmlParserMaxDepth, 256 unless XML_PARSE_HUGE): libvirt parses with libxml2's
 * defaults, so `virsh define` says "Excessive depth in document" for such a file.
 * Counted as libxml2 counts: an element may have up to 256 open ancestors.
 */
export const MAX_DEPTH = 256;
/** XML's white space (S): unlike JavaScript's \s, it has no NBSP, no BOM, no other Unicode spaces. */
export const NOT_XML_SPACE = /[^ \t\r\n]/;
/** Characters XML 1.0 forbids anywhere in a document, even in comments. */
const FORBIDDEN_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

const isXmlChar = (cp: number): boolean =>
  cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);

export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function fail(text: string, offset: number, message: string): never {
  const line = lineOf(text, offset);
  const column = offset - text.lastIndexOf('\n', offset - 1);
  throw new XmlSyntaxError(message, line, column);
}

/** A reference at `lastIndex` (sticky): the name up to ';', and the ';' if there is one. */
const REFERENCE = /&([^;&<\s]*)(;?)/y;

/**
 * The reference starting with the '&' at `i` in `src`: its replacement and where it ends; anything
 * but a known one is an error, placed at `base + i` in `text` (`src` may be a slice of it).
 */
function reference(src: string, i: number, text: string, base: number): { value: string; end: number } {
  REFERENCE.lastIndex = i;
  const m = REFERENCE.exec(src)!;
  const at = base + i;
  const ref = m[1]!;
  if (!m[2]) fail(text, at, `'&' must start an entity reference such as &amp;`);
  const end = i + m[0].length;
  const num = ref.match(/^#(?:x([0-9a-fA-F]+)|([0-9]+))$/);
  if (num) {
    const cp = num[1] !== undefined ? Number.parseInt(num[1], 16) : Number.parseInt(num[2]!, 10);
    if (!isXmlChar(cp)) fail(text, at, `character reference &${ref}; is not an XML character`);
    return { value: String.fromCodePoint(cp), end };
  }
  if (ref.startsWith('#')) fail(text, at, `bad character reference &${ref};`);
  const v = PREDEFINED[ref];
  if (v === undefined) fail(text, at, `entity &${ref}; is not defined (vnet-virt expands no DTD entities)`);
  return { value: v, end };
}

/** Decodes character and predefined entity references; anything else is an error. `at` is the offset of `raw` in `text`. */
export function decodeEntities(text: string, raw: string, at: number): string {
  let amp = raw.indexOf('&');
  if (amp === -1) return raw;
  let out = '';
  let from = 0;
  for (; amp !== -1; amp = raw.indexOf('&', from)) {
    const r = reference(raw, amp, text, at);
    out += raw.slice(from, amp) + r.value;
    from = r.end;
  }
  return out + raw.slice(from);
}

/** Checks the references of text from `from` to `to` (which ends at '<' or the end) without building the decoded text. */
function checkReferences(text: string, from: number, to: number): void {
  for (let amp = text.indexOf('&', from); amp !== -1 && amp < to; amp = text.indexOf('&', amp + 1)) reference(text, amp, text, 0);
}

export function escapeAttr(value: string): string {
  // Tabs and line breaks as references: a parser turns literal ones in attribute values into spaces.
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** XML 1.0's XMLDecl: version 1.x, then optionally encoding and standalone, in that order. */
const DECLARATION =
  /^<\?xml\s+version\s*=\s*(["'])1\.[0-9]+\1(?:\s+encoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\2)?(?:\s+standalone\s*=\s*(["'])(?:yes|no)\4)?\s*\?>$/;

function checkDeclaration(text: string, start: number, end: number): void {
  const m = DECLARATION.exec(text.slice(start, end));
  if (!m) fail(text, start, "malformed XML declaration (expected <?xml version=\"1.0\" encoding=\"UTF-8\"?>)");
  // The text was decoded as UTF-8; a file that calls itself UTF-16 or UTF-32 is read wrongly (libxml2 refuses it too).
  const encoding = m[3];
  if (encoding !== undefined && /^(?:utf-?(?:16|32)|ucs-?[24])/i.test(encoding))
    fail(text, start, `the XML declaration says encoding="${encoding}", but the file is read as UTF-8; convert it (iconv -t UTF-8) and say encoding="UTF-8"`);
}

/** Offset just past a DOCTYPE's '>': quoted literals may hold '>'; an internal subset is refused. */
function doctypeEnd(text: string, start: number): number {
  const name = /<!DOCTYPE[ \t\r\n]+[^\s>[]/y;
  name.lastIndex = start;
  if (!name.test(text)) fail(text, start, 'DOCTYPE has no name (expected <!DOCTYPE domain>)');
  for (let i = start + 9; i < text.length; i++) {
    const c = text[i];
    if (c === '>') return i + 1;
    if (c === '[') fail(text, start, 'internal DTD subsets are not accepted (no entity expansion)');
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1);
      if (close === -1) break;
      i = close;
    }
  }
  return fail(text, start, 'DOCTYPE is not closed');
}

export interface ParseOptions {
  /**
   * false: inside the root, only elements are kept; text, comments, CDATA and
   * PIs are checked exactly as always but not stored (fewer objects for readers
   * that never edit and never read text, such as lint). The verdict, the
   * elements, their lines and XPaths are the same either way.
   */
  keepText?: boolean;
}

export function parseXml(text: string, options: ParseOptions = {}): XmlDocumentTree {
  const keepText = options.keepText !== false;
  const len = text.length;
  let pos = 0;
  let line = 1;
  let root: XmlElement | undefined;
  const top: XmlNode[] = [];
  const stack: XmlElement[] = [];

  // The next line break at or after everything counted so far: each break is found once, so counting is linear.
  let nextBreak = text.indexOf('\n');
  const advanceLines = (to: number): void => {
    while (nextBreak !== -1 && nextBreak < to) {
      line++;
      nextBreak = text.indexOf('\n', nextBreak + 1);
    }
  };
  const current = (): XmlElement | undefined => stack[stack.length - 1];
  const pushNode = (kind: XmlText['kind'], start: number, end: number): void => {
    const parent = current();
    if (parent) {
      if (keepText) parent.children.push({ kind, start, end });
    } else if (kind === 'text' && NOT_XML_SPACE.test(text.slice(start, end)))
      fail(text, start + text.slice(start, end).search(NOT_XML_SPACE), 'text outside the root element');
    else if (kind === 'cdata') fail(text, start, 'CDATA outside the root element');
    else top.push({ kind, start, end });
  };
  const readName = (): string => {
    // Names are nearly always ASCII: scanned by character code, [A-Za-z_:][A-Za-z0-9_:.-]* (NAME's ASCII
    // part, the same answer wherever the name and the character after it are ASCII). NAME decides otherwise.
    let i = pos;
    let c = text.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a) {
      do c = text.charCodeAt(++i);
      while ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x3a) || c === 0x5f || c === 0x2d || c === 0x2e);
      // c is NaN at the end of the text: the name ends there.
      if (!(c >= 0x80)) {
        const name = text.slice(pos, i);
        pos = i;
        return name;
      }
    }
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) fail(text, pos, 'expected a name');
    pos += m[0].length;
    return m[0];
  };
  const skipSpace = (): boolean => {
    const start = pos;
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      pos++;
    }
    return pos > start;
  };

  // Next '&' and ']]>' at or after pos, cached: text nodes need no slice unless one falls inside.
  let nextAmp = -1;
  let nextCdataEnd = -1;
  const nextOf = (needle: string, cached: number): number => {
    if (cached >= pos) return cached;
    const i = text.indexOf(needle, pos);
    return i === -1 ? Infinity : i;
  };

  const bad = FORBIDDEN_CHAR.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0);
    // UTF-16 read as UTF-8 puts a NUL beside every ASCII character.
    const why = code === 0 ? ' (is the file UTF-16? convert it: iconv -f UTF-16 -t UTF-8)' : '';
    fail(text, bad.index, `character U+${code.toString(16).padStart(4, '0').toUpperCase()} is not allowed in XML${why}`);
  }
  const docStart = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  pos = docStart;
  let sawDoctype = false;
  while (pos < len) {
    const lt = text.indexOf('<', pos);
    if (lt === -1) {
      pushNode('text', pos, len);
      if (current()) fail(text, len, `element <${current()!.name}> is not closed`);
      break;
    }
    if (lt > pos) {
      if (current()) {
        nextCdataEnd = nextOf(']]>', nextCdataEnd);
        if (nextCdataEnd < lt) fail(text, nextCdataEnd, "']]>' is not allowed in text");
        nextAmp = nextOf('&', nextAmp);
        if (nextAmp < lt) checkReferences(text, pos, lt);
      }
      pushNode('text', pos, lt);
      advanceLines(lt);
      pos = lt;
    }
    const startLine = line;
    // The character after '<' picks the branch: one read, not a string test per kind of markup.
    const next = text.charCodeAt(pos + 1);
    if (next === 0x21 && text.startsWith('<!--', pos)) {
      const close = text.indexOf('-->', pos + 4);
      if (close === -1) fail(text, pos, 'comment is not closed');
      const body = text.slice(pos + 4, close);
      if (body.includes('--') || body.endsWith('-')) fail(text, pos, "'--' is not allowed inside a comment");
      const end = close + 3;
      pushNode('comment', pos, end);
      advanceLines(end);
      pos = end;
    } else if (next === 0x21 && text.startsWith('<![CDATA[', pos)) {
      if (!current()) fail(text, pos, 'CDATA outside the root element');
      const close = text.indexOf(']]>', pos);
      if (close === -1) fail(text, pos, 'CDATA section is not closed');
      const end = close + 3;
      pushNode('cdata', pos, end);
      advanceLines(end);
      pos = end;
    } else if (next === 0x3f) {
      const close = text.indexOf('?>', pos + 2);
      if (close === -1) fail(text, pos, 'processing instruction is not closed');
      const start = pos;
      pos += 2;
      const target = readName();
      if (pos < close && !skipSpace()) fail(text, pos, `expected white space or '?>' after <?${target}`);
      pos = start;
      if (target.toLowerCase() === 'xml') {
        if (pos !== docStart) fail(text, pos, 'the XML declaration must be at the very start of the file');
        checkDeclaration(text, pos, close + 2);
      }
      const end = close + 2;
      pushNode('pi', pos, end);
      advanceLines(end);
      pos = end;
    } else if (next === 0x21 && text.startsWith('<!DOCTYPE', pos)) {
      if (root || sawDoctype) fail(text, pos, 'DOCTYPE is only allowed before the root element');
      sawDoctype = true;
      const end = doctypeEnd(text, pos);
      pushNode('pi', pos, end);
      advanceLines(end);
      pos = end;
    } else if (next === 0x2f) {
      const start = pos;
      pos += 2;
      const name = readName();
      skipSpace();
      if (text.charCodeAt(pos) !== 0x3e) fail(text, pos, `expected '>' to close </${name}`);
      pos++;
      const open = stack.pop();
      if (!open) fail(text, start, `end tag </${name}> has no start tag`);
      if (open.name !== name) fail(text, start, `end tag </${name}> does not match <${open.name}> (line ${open.line})`);
      const el = open as { -readonly [K in keyof XmlElement]: XmlElement[K] };
      el.closeStart = start;
      el.end = pos;
      advanceLines(pos);
    } else {
      const start = pos;
      pos++;
      const name = readName();
      let attrs: XmlAttr[] | undefined;
      // Names seen, once there are enough attributes that a scan per attribute would cost more than a set.
      let names: Set<string> | undefined;
      let nsDecls: Map<string, string> | undefined;
      let selfClosing = false;
      for (;;) {
        const spaced = skipSpace();
        if (pos >= len) fail(text, start, `start tag <${name}> is not closed`);
        const c = text.charCodeAt(pos);
        if (c === 0x3e) {
          pos++;
          break;
        }
        if (c === 0x2f && text.charCodeAt(pos + 1) === 0x3e) {
          pos += 2;
          selfClosing = true;
          break;
        }
        if (!spaced) fail(text, pos, `expected white space before an attribute in <${name}>`);
        const aStart = pos;
        const aName = readName();
        skipSpace();
        if (text.charCodeAt(pos) !== 0x3d) fail(text, pos, `attribute ${aName} of <${name}> has no value`);
        pos++;
        skipSpace();
        const q = text.charCodeAt(pos);
        if (q !== 0x22 && q !== 0x27) fail(text, pos, `value of attribute ${aName} must be quoted`);
        const close = text.indexOf(q === 0x22 ? '"' : "'", pos + 1);
        if (close === -1) fail(text, pos, `value of attribute ${aName} is not closed`);
        const raw = text.slice(pos + 1, close);
        if (raw.includes('<')) fail(text, pos, `'<' is not allowed in the value of attribute ${aName}`);
        const value = decodeEntities(text, raw, pos + 1);
        pos = close + 1;
        if (names === undefined && attrs && attrs.length >= 8) names = new Set(attrs.map((a) => a.name));
        if (names ? names.has(aName) : attrs?.some((a) => a.name === aName))
          fail(text, aStart, `attribute ${aName} appears twice in <${name}>`);
        names?.add(aName);
        (attrs ??= []).push({ name: aName, value, start: aStart, end: pos });
        if (aName === 'xmlns') (nsDecls ??= new Map()).set('', value);
        else if (aName.startsWith('xmlns:')) (nsDecls ??= new Map()).set(aName.slice(6), value);
      }
      const parent = current();
      if (!parent && root) fail(text, start, 'only one root element is allowed');
      if (stack.length > MAX_DEPTH)
        fail(text, start, `elements are nested more than ${MAX_DEPTH} deep (libxml2's limit, so libvirt refuses the file too)`);
      const el: XmlElement = {
        kind: 'element',
        name,
        attrs: attrs ?? NO_ATTRS,
        children: selfClosing ? NO_CHILDREN : [],
        parent,
        start,
        openEnd: pos,
        closeStart: pos,
        end: pos,
        selfClosing,
        line: startLine,
        nsDecls: nsDecls ?? NO_NAMESPACES,
      };
      advanceLines(pos);
      if (parent) parent.children.push(el);
      else {
        root = el;
        top.push(el);
      }
      if (!selfClosing) stack.push(el);
    }
  }
  if (stack.length) fail(text, len, `element <${stack[stack.length - 1]!.name}> is not closed`);
  if (!root) fail(text, 0, 'no root element');
  const crlf = text.indexOf('\n');
  const eol = crlf > 0 && text[crlf - 1] === '\r' ? '\r\n' : '\n';
  return { text, root, top, eol };
}

/**
 * The document written back from the tree's offsets alone. It equals the
 * parsed text exactly when every byte belongs to one node; tests use it to
 * prove that, since edits rely on those offsets.
 */
export function serializeTree(tree: XmlDocumentTree): string {
  const { text } = tree;
  const parts: string[] = [text.slice(0, tree.top[0]?.start ?? 0)];
  forEachPart(tree.top, (start, end) => void parts.push(text.slice(start, end)));
  return parts.join('');
}

/**
 * Calls `visit` with the source range of every piece of `nodes` in document
 * order: a start tag, each child's pieces, then the end tag. Iterative, so
 * depth costs no stack.
 */
function forEachPart(nodes: readonly XmlNode[], visit: (start: number, end: number) => void): void {
  // Each frame: an element whose children are being written, and the index of the next child.
  const frames: { el: XmlElement | undefined; list: readonly XmlNode[]; i: number }[] = [{ el: undefined, list: nodes, i: 0 }];
  while (frames.length) {
    const f = frames[frames.length - 1]!;
    if (f.i === f.list.length) {
      frames.pop();
      if (f.el && f.el.closeStart < f.el.end) visit(f.el.closeStart, f.el.end);
      continue;
    }
    const node = f.list[f.i++]!;
    if (node.kind !== 'element') visit(node.start, node.end);
    else {
      visit(node.start, node.openEnd);
      frames.push({ el: node, list: node.children, i: 0 });
    }
  }
}

// ---- small read helpers over the tree ----

export function attr(el: XmlElement, name: string): string | undefined {
  for (const a of el.attrs) if (a.name === name) return a.value;
  return undefined;
}

export function childElements(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.kind === 'element' && (name === undefined || c.name === name)) out.push(c);
  return out;
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (c.kind === 'element' && c.name === name) return c;
  return undefined;
}

/** Text content of an element (decoded, CDATA included). */
export function textContent(text: string, el: XmlElement): string {
  if (el.selfClosing) return '';
  let out = '';
  forEachPart(el.children, (start, end) => {
    if (text.charCodeAt(start) !== 0x3c) out += decodeEntities(text, text.slice(start, end), start);
    else if (text.startsWith('<![CDATA[', start)) out += text.slice(start + 9, end - 3);
  });
  return out;
}

/** The namespace URI bound to a prefix at an element ('' = default namespace). */
export function lookupNamespace(el: XmlElement | undefined, prefix: string): string | undefined {
  for (let e = el; e; e = e.parent) {
    const uri = e.nsDecls.get(prefix);
    if (uri !== undefined) return uri;
  }
  return undefined;
}

export function namespaceOf(el: XmlElement): string | undefined {
  const colon = el.name.indexOf(':');
  return lookupNamespace(el, colon === -1 ? '' : el.name.slice(0, colon));
}

export function localName(el: XmlElement): string {
  const colon = el.name.indexOf(':');
  return colon === -1 ? el.name : el.name.slice(colon + 1);
}

/** Each child element's step in an XPath (name, or name[k] among same-named siblings), per parent: computed once. */
const steps = new WeakMap<XmlElement, Map<XmlElement, string>>();

function stepsOf(parent: XmlElement): Map<XmlElement, string> {
  let m = steps.get(parent);
  if (m) return m;
  const count = new Map<string, number>();
  for (const c of parent.children) if (c.kind === 'element') count.set(c.name, (count.get(c.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  m = new Map();
  for (const c of parent.children) {
    if (c.kind !== 'element') continue;
    if (count.get(c.name)! === 1) m.set(c, c.name);
    else {
      const k = (seen.get(c.name) ?? 0) + 1;
      seen.set(c.name, k);
      m.set(c, `${c.name}[${k}]`);
    }
  }
  steps.set(parent, m);
  return m;
}

/** Below this many children a scan of the siblings is cheaper than building (and keeping) their steps. */
const SCAN_SIBLINGS = 64;

function stepOf(e: XmlElement, parent: XmlElement): string {
  if (parent.children.length >= SCAN_SIBLINGS) return stepsOf(parent).get(e)!;
  let position = 0;
  let same = 0;
  for (const c of parent.children) {
    if (c.kind !== 'element' || c.name !== e.name) continue;
    same++;
    if (c === e) position = same;
  }
  return same > 1 ? `${e.name}[${position}]` : e.name;
}

/** An XPath that names this element by position, e.g. /domain/devices/interface[2]. */
export function xpathOf(el: XmlElement): string {
  const parts: string[] = [];
  for (let e: XmlElement | undefined = el; e; e = e.parent) parts.push(e.parent ? stepOf(e, e.parent) : e.name);
  return '/' + parts.reverse().join('/');
}
