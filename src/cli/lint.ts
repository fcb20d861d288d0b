// CLI wiring of lint (issue: lint).
import type { Command } from 'commander';

export function registerLintCommand(_program: Command, _out: (s: string) => void, _collect: (v: string, p?: string[]) => string[]): void {}
