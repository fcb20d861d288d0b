// CLI wiring of container veth / macvlan / remove.
import type { Command } from 'commander';

const TARGET = "the container: an ip netns name, or a PID (the namespace of that process)";
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function common(cmd: Command): Command {
  return cmd
    .option('--netns <ns>', "where the host side (host end, bridge, parent) lives: a named namespace (default: the current one); the container itself is <netns-or-pid>. remove looks for --host-end there and refuses (exit 3) when it is in another namespace")
    .option('--dry-run', 'print the commands, one per line, and change nothing')
    .option('--json', 'print the result as JSON (schemas/container-result.json)');
}

export function registerContainerCommands(program: Command, out: (s: string) => void): void {
  const container = program.command('container').description('veth pairs and macvlans for containers (systemd-nspawn style), marked as vnet-virt\'s');
  common(
    container
      .command('veth')
      .description('a veth pair: the host end (on a bridge if given) here, the other end in the container; like nspawn --network-veth')
      .argument('<netns-or-pid>', TARGET)
      .option('--host-end <name>', 'host end name (default: ve-<target>, at most 15 bytes)')
      .option('--container-end <name>', "name of the end in the container (default: vv0; nspawn's own is host0)")
      .option('--bridge <br>', 'put the host end on this bridge')
      .option('--mac <mac>', 'MAC of the container end')
      .option('--address <cidr>', 'address of the container end, e.g. 192.0.2.2/24'),
  ).action(async (target: string, opts) => {
    const { containerVeth, printContainerReport } = await import('../commands/container.js');
    printContainerReport(await containerVeth(target, opts), opts.json, out);
  });
  common(
    container
      .command('macvlan')
      .description('a macvlan on a host device, in the container; like nspawn --network-macvlan')
      .argument('<netns-or-pid>', TARGET)
      .requiredOption('--parent <dev>', 'the host device the macvlan sits on')
      .option('--name <name>', 'name in the container (default: mv-<parent>)')
      .option('--mode <mode>', 'bridge (default, as nspawn), vepa, private, passthru or source')
      .option('--mac <mac>', 'MAC of the macvlan')
      .option('--address <cidr>', 'address of the macvlan, e.g. 192.0.2.11/24'),
  ).action(async (target: string, opts) => {
    const { containerMacvlan, printContainerReport } = await import('../commands/container.js');
    printContainerReport(await containerMacvlan(target, opts), opts.json, out);
  });
  common(
    container
      .command('remove')
      .description("delete devices that carry this container's marker; a device gone from everywhere is fine, one found in another namespace than --netns or a foreign one is refused")
      .argument('<netns-or-pid>', TARGET)
      .option('--host-end <name>', 'a veth host end (deleting it deletes the pair); repeatable', collect)
      .option('--name <name>', 'a device in the container (a macvlan); repeatable', collect),
  ).action(async (target: string, opts) => {
    const { containerRemove, printContainerReport } = await import('../commands/container.js');
    printContainerReport(await containerRemove(target, opts), opts.json, out);
  });
}
