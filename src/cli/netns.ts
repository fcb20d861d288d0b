// CLI wiring of netns list/attach/detach.
import type { Command } from 'commander';

export function registerNetnsCommands(program: Command, out: (s: string) => void): void {
  const netns = program.command('netns').description('named handles for anonymous network namespaces (systemd-nspawn, unshare)');
  netns
    .command('list')
    .description('every network namespace with its names, first PID and command')
    .option('--anonymous', 'only namespaces that no name points at (not the host)')
    .option('--json', 'JSON on stdout')
    .action(async (opts) => (await import('../commands/netns.js')).runNetnsList(opts, out));
  netns
    .command('attach')
    .description('give the network namespace of process PID the name NAME (ip netns attach)')
    .argument('<name>', 'the handle, usable as ip -n NAME / vnet-virt --netns NAME')
    .argument('<pid>', 'a process in that namespace, e.g. the container leader')
    .action(async (name: string, pid: string) => (await import('../commands/netns.js')).runNetnsAttach(name, pid, out));
  netns
    .command('detach')
    .description('remove a handle; refuses when no process is inside (that would destroy the namespace)')
    .argument('<name>')
    .action(async (name: string) => (await import('../commands/netns.js')).runNetnsDetach(name, out));
}
