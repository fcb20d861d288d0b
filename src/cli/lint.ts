// CLI wiring of lint: options only; the work is in src/commands/lint.ts, loaded on use.
import { Option } from 'commander';
import type { Command } from 'commander';
import { nameOptions } from './domain-source.js';

export function registerLintCommand(program: Command, out: (s: string) => void, collect: (v: string, p?: string[]) => string[]): void {
  nameOptions(program.command('lint'), { all: true })
    .description("check domain XML against libvirt's schema and the rules libvirt does not check")
    .argument('[inputs...]', "domain XML files, folders (searched for *.xml), or '-' for stdin (or --domain NAME, --all-domains)")
    .option('--live', 'by name: lint the live definition of a running domain (default: the persistent one)')
    .option('--schema-dir <dir>', "folder with libvirt's domain.rng (default: /usr/share/libvirt/schemas)")
    .option('--no-schema', 'skip schema validation')
    .option('--require-schema', 'fail when the schema is not installed (default: a note, and the other rules run)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif', 'github']).default('text'))
    .option('--disable <rule>', 'do not run this rule (repeatable, or comma-separated)', collect, [])
    .option('--max-warnings <n>', 'exit 3 when there are more warnings than this (default: unlimited)')
    .option('--host', 'also check against the live devices (one ip -j -d link show)')
    .option('--netns <ns>', 'with --host: the devices of this network namespace')
    .action(async (inputs: string[], opts) => {
      const { runLint } = await import('../commands/lint.js');
      const code = await runLint(inputs, opts, out);
      if (code !== 0) process.exitCode = code;
    });
}
