// CLI wiring of up, down and check.
import type { Command } from 'commander';
import { nameOptions } from './domain-source.js';

const DOMAINS = "domain XML files, directories of them (every *.xml), or '-' for stdin (or --domain NAME)";

/** What up and down share: the domains, where, a dry run, and the report as JSON. */
const changing = (cmd: Command): Command =>
  nameOptions(cmd)
    .argument('[domain...]', DOMAINS)
    .option('--netns <ns>', 'work inside this network namespace')
    .option('--dry-run', 'print the commands, one per line, and change nothing')
    .option('--json', 'print the result as JSON (schemas/up-result.json)');

export function registerHostCommands(program: Command, out: (s: string) => void): void {
  changing(program.command('up').description('create the host devices the domains need (marked as theirs) and bring them up; a second run does nothing'))
    .option('--adopt', 'take over existing devices with the right name: mark them and fix what can be fixed')
    .option('--create-bridge', 'create a missing bridge (marked as ours) instead of refusing')
    .action(async (inputs: string[], opts) => {
      const { runUp } = await import('../commands/up.js');
      await runUp(inputs, opts, out);
    });

  changing(program.command('down').description("delete the devices that carry the domains' markers; anything else is reported and left"))
    .action(async (inputs: string[], opts) => {
      const { runDown } = await import('../commands/down.js');
      await runDown(inputs, opts, out);
    });

  nameOptions(program.command('check'), { all: true })
    .description('list every difference between the host devices and the domain XML (exit 3 when there is one)')
    .argument('[domain...]', DOMAINS)
    .option('--inactive', "by name: read the persistent definition even while the domain runs (default: the live one when it runs)")
    .option('--netns <ns>', 'look inside this network namespace')
    .option('--json', 'print the result as JSON (schemas/check-result.json)')
    .option('-q, --quiet', 'print nothing when the host matches (the differences still)')
    .action(async (inputs: string[], opts) => {
      const { runCheck } = await import('../commands/check.js');
      await runCheck(inputs, opts, out);
    });
}
