// CLI wiring of hook install/uninstall/status/run/replay (issue: libvirt hook).
import type { Command } from 'commander';

export function registerHookCommands(_program: Command, _out: (s: string) => void): void {}
