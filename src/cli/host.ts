// CLI wiring of up, down and check (issue: host provisioning).
import type { Command } from 'commander';

export function registerHostCommands(_program: Command, _out: (s: string) => void): void {}
