// The CLI: commander wiring only. Each action loads its command module on
// demand, so a command pays only for what it uses (start-up is a feature).
import { Command, CommanderError } from 'commander';
import { VnetError, ExitCode } from '../errors.js';
import { packageVersion } from '../version.js';
import { internalErrorLine } from './quiet-exit.js';
import { registerHookCommands } from './hook.js';
import { registerHostCommands } from './host.js';
import { registerLintCommand } from './lint.js';
import { registerNetnsCommands } from './netns.js';
import { registerContainerCommands } from './container.js';
import { registerShowCommand } from './show.js';
import { addHelp, commandInUse, usageLine } from './help.js';
import { attachByName, detachByName, nameOptions } from './domain-source.js';

export const out = (s: string): void => {
  process.stdout.write(s);
};

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function outputOptions(cmd: Command): Command {
  return cmd
    .option('-o, --output <file>', 'write the patched XML to FILE (atomically)')
    .option('--in-place', 'rewrite the input file (temporary file + rename, mode kept)')
    .option('--print-diff', 'print a unified diff instead of the XML')
    .option('--json', 'print a JSON result on stdout (schemas/attach-result.json)');
}

function attachOptions(cmd: Command): Command {
  return outputOptions(
    nameOptions(cmd, { change: true })
      .option('--mac <mac>', 'guest MAC (default: derived from the domain UUID or name and the interface position)')
      .option('--model <type>', 'NIC model (default: virtio)')
      .option('--pci-address <addr>', 'PCI address [DDDD:]BB:SS.F for the new interface (default: none, libvirt assigns one)'),
  );
}

/** attach-tap and attach-macvtap create host devices vnet-virt owns; attach-direct leaves that to libvirt. */
function provisionOptions(cmd: Command): Command {
  return attachOptions(cmd)
    .option('--provision', 'create the host devices first; the XML is written only if that succeeds')
    .option('--netns <ns>', 'with --provision: work in this network namespace')
    .option('--create-bridge', 'with --provision: create a missing bridge (marked as ours)');
}

export function buildProgram(): Command {
  const program = new Command('vnet-virt')
    .description('Taps, veths and macvtaps for libvirt/QEMU guests, and the domain XML that matches them.')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Usage errors keep the one-line contract: 'vnet-virt: what; what to do'.
      outputError: (s, write) => write(usageLine(s, '')),
    });

  provisionOptions(
    program
      .command('attach-tap')
      .description('add <interface type="ethernet"> with an unmanaged tap (managed="no") and record it')
      .argument('[domain.xml]', "domain XML file, or '-' for stdin (or --domain NAME)")
      .option('--tap <name>', 'tap device name (default: derived, at most 15 bytes)')
      .option('--bridge <br>', 'bridge the tap is put on when provisioned')
      .option('--queues <n>', 'virtio queues (<driver queues>); the tap is made multi_queue')
      .option('--mtu <n>', 'MTU (<mtu size>)'),
  )
    .action(async (input: string | undefined, opts) => {
      if (await attachByName('attach-tap', input, opts, 'tapSpec', out)) return;
      const { runAttach, tapSpec } = await import('../commands/attach.js');
      const before = opts.provision ? (await import('../commands/provision-hook.js')).provisionBeforeWrite(opts) : undefined;
      await runAttach('attach-tap', input!, opts, tapSpec, out, before);
    });

  provisionOptions(
    program
      .command('attach-macvtap')
      .description('add an ethernet interface whose target is a macvtap (on a veth end) with the guest MAC, and record it')
      .argument('[domain.xml]', "domain XML file, or '-' for stdin (or --domain NAME)")
      .requiredOption('--lower <dev>', 'device the macvtap sits on (e.g. veth1)')
      .requiredOption('--macvtap <name>', 'macvtap device name QEMU opens')
      .option('--mode <mode>', "macvtap mode: vepa (default), bridge, private, passthru or source (libvirt's passthrough is accepted)")
      .option('--veth-peer <name>', 'create --lower as a veth pair with this peer end')
      .option('--bridge <br>', 'bridge the veth peer is put on'),
  )
    .action(async (input: string | undefined, opts) => {
      if (await attachByName('attach-macvtap', input, opts, 'macvtapSpec', out)) return;
      const { runAttach, macvtapSpec } = await import('../commands/attach.js');
      const before = opts.provision ? (await import('../commands/provision-hook.js')).provisionBeforeWrite(opts) : undefined;
      await runAttach('attach-macvtap', input!, opts, macvtapSpec, out, before);
    });

  attachOptions(
    program
      .command('attach-direct')
      .description('add <interface type="direct"> (libvirt creates the macvtap)')
      .argument('[domain.xml]', "domain XML file, or '-' for stdin (or --domain NAME)")
      .requiredOption('--source <dev>', 'host device the macvtap sits on')
      .option('--mode <mode>', "vepa (default), bridge, private or passthrough (iproute2's passthru is accepted)")
      .option('--trust-guest-rx-filters', 'set trustGuestRxFilters="yes"'),
  ).action(async (input: string | undefined, opts) => {
    if (await attachByName('attach-direct', input, opts, 'directSpec', out)) return;
    const { runAttach, directSpec } = await import('../commands/attach.js');
    await runAttach('attach-direct', input!, opts, directSpec, out);
  });

  outputOptions(
    nameOptions(program.command('detach'), { change: true })
      .description('remove an interface and its record entry')
      .argument('[domain.xml]', "domain XML file, or '-' for stdin (or --domain NAME)")
      .option('--mac <mac>', 'the interface with this MAC')
      .option('--target <dev>', 'the interface with this target (or direct source) device')
      .option('--netns <ns>', "with --live: delete the interface's devices in this network namespace"),
  ).action(async (input: string | undefined, opts) => {
    if (await detachByName(input, opts, out)) return;
    const { runDetach } = await import('../commands/detach.js');
    await runDetach(input!, opts, out);
  });

  registerHostCommands(program, out);
  registerLintCommand(program, out, collect);
  registerHookCommands(program, out);
  registerNetnsCommands(program, out);
  registerContainerCommands(program, out);
  registerShowCommand(program, out);
  program
    .command('completion')
    .description('print a completion script for bash or zsh')
    .argument('<shell>', 'bash or zsh')
    .action(async (shell: string) => out((await import('./completion.js')).completion(program, shell)));
  addHelp(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      // No command (or a group without its subcommand): usage went to stderr; that is a usage error.
      if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : ExitCode.usage;
      return ExitCode.usage;
    }
    if (e instanceof VnetError) {
      const see = e.exitCode === ExitCode.usage ? `; see vnet-virt ${commandInUse() ? `${commandInUse()} ` : ''}--help` : '';
      process.stderr.write(`vnet-virt: ${e.oneLine()}${see}\n`);
      return e.exitCode;
    }
    process.stderr.write(internalErrorLine(e));
    return 1;
  }
}

