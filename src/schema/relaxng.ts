// libvirt's RelaxNG schema in-process (libxml2-wasm), compiled once per thread
// and reused for every file: the same libxml2 validator virt-xml-validate and
// xmllint use, so the verdict and the error text are libvirt's own.
import { readFileSync } from 'node:fs';
import { ParseOption, RelaxNGValidator, XmlDocument, XmlParseError, XmlValidateError } from 'libxml2-wasm';
import type { ErrorDetail } from 'libxml2-wasm';
import { xmlRegisterFsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';
import { domainSchemaPath } from './libvirt.js';
import type { SchemaProblem, SchemaVerdict } from './libvirt.js';

// No network, no external entities: a domain file must not make the linter read other files.
const DOC_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

let providersRegistered = false;

const problemsOf = (details: ErrorDetail[] | undefined, fallback: string): SchemaProblem[] => {
  const out = (details ?? [])
    .filter((d) => d.level >= 2)
    .map((d) => ({ message: d.message.trim(), line: d.line, xpath: d.xpath }));
  return out.length ? out : [{ message: fallback.trim(), line: 0, xpath: undefined }];
};

export class DomainSchema {
  private constructor(
    readonly path: string,
    private readonly validator: RelaxNGValidator,
  ) {}

  /** Compiles `<dir>/domain.rng` (its <include>s are read from the same folder). */
  static load(dir: string): DomainSchema {
    if (!providersRegistered) {
      xmlRegisterFsInputProviders();
      providersRegistered = true;
    }
    const path = domainSchemaPath(dir);
    const rng = XmlDocument.fromBuffer(readFileSync(path), { url: path });
    try {
      return new DomainSchema(path, RelaxNGValidator.fromDoc(rng));
    } finally {
      rng.dispose();
    }
  }

  validate(buf: Uint8Array, file: string): SchemaVerdict {
    let doc: XmlDocument;
    try {
      doc = XmlDocument.fromBuffer(buf, { url: file, option: DOC_OPTIONS });
    } catch (e) {
      if (e instanceof XmlParseError) return { kind: 'not-well-formed', problems: problemsOf(e.details, e.message) };
      throw e;
    }
    try {
      this.validator.validate(doc);
      return { kind: 'valid' };
    } catch (e) {
      if (e instanceof XmlValidateError) return { kind: 'invalid', problems: problemsOf(e.details, e.message) };
      throw e;
    } finally {
      doc.dispose();
    }
  }

  dispose(): void {
    this.validator.dispose();
  }
}
