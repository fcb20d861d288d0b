// CLI wiring of hook install/uninstall/status/run/replay (issue: libvirt hook).
import { Option } from 'commander';
import type { Command } from 'commander';

const DEFAULT_HOOKS_DIR = '/etc/libvirt/hooks';

export function registerHookCommands(program: Command, out: (s: string) => void): void {
  const hook = program
    .command('hook')
    .description('the libvirt qemu hook: devices appear at VM start (prepare begin) and vanish at stop (release end)');

  hook
    .command('install')
    .description('install the hook as HOOKS_DIR/qemu.d/vnet-virt (HOOKS_DIR/qemu for libvirt older than 6.5)')
    .option('--hooks-dir <dir>', 'libvirt hooks directory', DEFAULT_HOOKS_DIR)
    .option('--force', 'overwrite a file of the same name that vnet-virt did not write; install from a temporary folder')
    .option('--reload', 'SIGHUP the running libvirtd or virtqemud that uses HOOKS_DIR, so the next VM start runs the hook')
    .option('--timeout <seconds>', 'time limit per call, baked into the installed script (default 10)')
    .option('--grace <seconds>', 'time an aborted call gets to undo (default 5)')
    .option('--log <file>', "log file, 'syslog' or 'none' (default /var/log/libvirt/vnet-virt-hook.log)")
    .option('--create-bridge', 'create a missing bridge the record names (serialised by a lock)')
    .option('--lock <name>', 'name of the lock hooks take around their work (default vnet-virt-hook)')
    .option('--config <file>', 'config file the hook reads (default /etc/vnet-virt/hook.conf)')
    .addOption(new Option('--libvirt-version <x.y.z>', 'lay out files for this libvirt (default: libvirtd --version)'))
    .action(async (opts) => {
      const { runHookInstall } = await import('../commands/hook.js');
      runHookInstall(opts, out);
    });

  hook
    .command('uninstall')
    .description('remove what hook install wrote (files carrying its marker line), nothing else')
    .option('--hooks-dir <dir>', 'libvirt hooks directory', DEFAULT_HOOKS_DIR)
    .action(async (opts: { hooksDir: string }) => {
      const { runHookUninstall } = await import('../commands/hook.js');
      runHookUninstall(opts.hooksDir, out);
    });

  hook
    .command('status')
    .description('what is installed where, and the settings the hook will use; exit 3 when the installed hook cannot run')
    .option('--hooks-dir <dir>', 'libvirt hooks directory', DEFAULT_HOOKS_DIR)
    .action(async (opts: { hooksDir: string }) => {
      const { runHookStatus } = await import('../commands/hook.js');
      runHookStatus(opts.hooksDir, out);
    });

  hook
    .command('run')
    .description('the entry libvirt calls (domain XML on stdin); same code as dist/src/hook/entry.js')
    .argument('<domain>', 'domain name')
    .argument('<op>', 'operation: prepare, start, started, stopped, release, ...')
    .argument('<sub-op>', 'sub-operation: begin, end or -')
    .argument('[extra]', 'extra argument libvirt passes (unused)')
    .action(async (domain: string, op: string, sub: string, extra: string | undefined) => {
      const { runHookRun } = await import('../commands/hook.js');
      await runHookRun([domain, op, sub, extra ?? '-']);
    });

  hook
    .command('replay')
    .description("run the hook's path on a saved domain XML; log on stderr, up/down's report on stdout")
    .requiredOption('--xml <file>', "domain XML file, or '-' for stdin")
    .argument('<op>', 'operation, e.g. prepare or release')
    .argument('<sub-op>', 'sub-operation, e.g. begin or end')
    .option('--dry-run', 'plan only: change nothing on the host')
    .option('--netns <ns>', 'work in this network namespace instead of the current one')
    .action(async (op: string, sub: string, opts: { xml: string; dryRun?: boolean; netns?: string }) => {
      const { runHookReplay } = await import('../commands/hook.js');
      await runHookReplay(op, sub, opts, out);
    });
}
