// Where libvirt's RelaxNG schemas live, and what a check of one file against them says.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_SCHEMA_DIR = '/usr/share/libvirt/schemas';

export interface SchemaProblem {
  message: string;
  /** 0 when libxml2 does not know the line. */
  line: number;
  xpath: string | undefined;
  /** The element libxml2 names ("element devices: ..."), when it names one. */
  element?: string | undefined;
}

export type SchemaVerdict =
  | { kind: 'valid' }
  | { kind: 'invalid'; problems: SchemaProblem[] }
  | { kind: 'not-well-formed'; problems: SchemaProblem[] };

export function domainSchemaPath(dir: string): string {
  return join(dir, 'domain.rng');
}

export function schemaExists(dir: string): boolean {
  return existsSync(domainSchemaPath(dir));
}
