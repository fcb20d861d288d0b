// The data lint passes around: findings, the per-file context rules read,
// and the claims cross-file rules make (a MAC, a target, a passthrough source).
import type { DomainDoc } from '../domain/doc.js';
import type { InterfaceView } from '../domain/interfaces.js';
import type { RecordView } from '../domain/record.js';
import type { HostFacts } from '../host/facts.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Place {
  file: string;
  /** 1-based line of the element's start tag. */
  line: number;
  xpath: string;
}

export interface Finding extends Place {
  rule: string;
  severity: Severity;
  message: string;
  /** How to fix it. */
  hint: string;
  /** The other places a cross-file finding involves (each also gets its own finding). */
  related?: Place[];
}

/** What a rule reports; file and rule id are filled in by the engine. */
export interface Report {
  line: number;
  xpath: string;
  message: string;
  hint: string;
  /** Overrides the rule's default severity for this finding. */
  severity?: Severity;
}

/** A value that must be unique among all interfaces linted together (one domain or many files). */
export interface Claim extends Place {
  rule: string;
  key: string;
}

export interface FileContext {
  file: string;
  doc: DomainDoc;
  interfaces: InterfaceView[];
  record: RecordView | undefined;
  /** Live devices, with --host only. */
  host: HostFacts | undefined;
}

export interface Reporter {
  report(r: Report): void;
  claim(key: string, at: { line: number; xpath: string }): void;
}

/** A rule that reads one domain: the module of src/lint/rules/<id>.ts. */
export interface DomainRule {
  id: string;
  severity: Severity;
  description: string;
  /** Runs only with --host (it needs live devices to say anything). */
  hostOnly?: boolean;
  check(ctx: FileContext, r: Reporter): void;
  /**
   * For rules that claim keys: the finding for one claim that others share.
   * `others` holds the first few of them (at most MAX_RELATED), `total` counts them all.
   */
  conflict?(claim: Claim, others: Claim[], total: number): { message: string; hint: string };
}

/** Rules the engine applies before there is a DomainDoc (file-unreadable, xml-syntax, schema). */
export interface StageRule {
  id: string;
  severity: Severity;
  description: string;
  stage: 'read' | 'parse' | 'schema';
}

export type Rule = DomainRule | StageRule;

/** Which files' claims are compared by the cross-file rules: those of one folder (default), of one file, or of the whole run. */
export type Scope = 'folder' | 'file' | 'run';

export interface Summary {
  error: number;
  warning: number;
  info: number;
  /** Files not linted because their root is not <domain>. */
  skipped: number;
  /** Whether libvirt's schema was applied. */
  schema: 'validated' | 'skipped' | 'disabled';
}

export interface LintResult {
  /** Number of files linted (domain files and files that are not well-formed). */
  files: number;
  findings: Finding[];
  summary: Summary;
  /** The names of the files counted in `files`, in input order (for formats that list every file). */
  linted?: string[];
  /** Per file with inline suppressions: line -> the rule ids silenced there ('*' for all). */
  directives?: Map<string, [number, string[]][]>;
}
