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
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif', 'github', 'codeclimate', 'junit', 'markdown']).default('text'))
    .option('--disable <rule>', 'do not run this rule (repeatable, or comma-separated); not file-unreadable or xml-syntax', collect, [])
    .option('--ignore <glob>', 'do not lint paths matching this glob (repeatable; like .gitignore: a name matches at any depth)', collect, [])
    .addOption(new Option('--scope <scope>', 'which files cross-file rules compare: those of one folder, one file, or the whole run').choices(['folder', 'file', 'run']))
    .option('--max-warnings <n>', 'exit 3 when there are more warnings than this (default: unlimited)')
    .option('-q, --quiet', 'report errors only (warnings and info are not shown or counted)')
    .option('--config <file>', 'read this config file (default: .vnet-virt.json or the "vnet-virt" key of package.json, here or above)')
    .option('--no-config', 'read no config file')
    .option('--summary <file>', 'also append a Markdown summary (findings and a Mermaid picture of the domains) to FILE, e.g. "$GITHUB_STEP_SUMMARY"')
    .option('--automation-id <id>', "with --format sarif: the run's automationDetails.id (e.g. vnet-virt/domains/)")
    .option('--allow-empty', 'exit 0 when the inputs hold no domain XML (default: exit 2, so a mistyped path cannot pass)')
    .option('--list-rules', 'list every rule with its severity and description, and exit')
    .option('--host', 'also check against the live devices (one ip -j -d link show)')
    .option('--netns <ns>', 'with --host: the devices of this network namespace')
    .action(async (inputs: string[], opts) => {
      const { runLint } = await import('../commands/lint.js');
      const code = await runLint(inputs, opts, out);
      if (code !== 0) process.exitCode = code;
    });
}
