// CLI wiring of show.
import type { Command } from 'commander';
import { nameOptions } from './domain-source.js';

export function registerShowCommand(program: Command, out: (s: string) => void): void {
  nameOptions(program.command('show'), { all: true })
    .description("draw the guests' interfaces and the host devices behind them (tap, macvtap, veth, bridge)")
    .argument('[domain...]', "domain XML files, directories of them (every *.xml), or '-' for stdin (or --domain NAME, --all-domains)")
    .option('--inactive', 'by name: draw the persistent definition of a running domain (default: the live one)')
    .option('--host', 'compare with the live devices and mark what differs: missing, down, wrong MAC, not ours; draw containers')
    .option('--netns <ns>', "with --host: the namespace the domains' devices live in (default: the current one)")
    .option('--format <format>', 'text (a tree; color on a terminal unless NO_COLOR), mermaid, dot or svg', 'text')
    .option('-o, --output <file>', 'write the drawing to FILE instead of stdout')
    .action(async (inputs: string[], opts) => {
      const { runShow } = await import('../commands/show.js');
      await runShow(inputs, opts, out);
    });
}
