// The man page, vnet-virt(1), generated from the CLI's definitions and the
// help table: what `--help` says, as roff. `npm run man` writes man/vnet-virt.1.
import type { Command } from 'commander';
import { allCommands, COMMON_EXITS, HELP, pathOf } from './help.js';

// roff: a backslash is written \e, a leading dot or quote would be a request, '-' is \-.
const esc = (s: string): string =>
  s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');

function synopsis(cmd: Command): string {
  const args = (cmd as unknown as { registeredArguments: { name(): string; required: boolean; variadic: boolean }[] }).registeredArguments.map(
    (a) => `${a.required ? '<' : '['}${a.name()}${a.variadic ? '...' : ''}${a.required ? '>' : ']'}`,
  );
  return [`vnet-virt ${pathOf(cmd)}`, cmd.options.length ? '[options]' : '', ...args].filter(Boolean).join(' ');
}

function section(cmd: Command): string {
  const path = pathOf(cmd);
  const lines = [`.SS ${esc(path)}`, '.nf', `.B ${esc(synopsis(cmd))}`, '.fi', esc(cmd.description())];
  for (const o of cmd.options.filter((o) => !o.hidden)) {
    lines.push('.TP', `.B ${esc(o.flags)}`, esc(o.description + (o.argChoices ? ` (${o.argChoices.join(', ')})` : '')));
  }
  const extra = HELP[path];
  if (extra) {
    lines.push('.PP', 'Examples:', '.RS', '.nf');
    for (const [c, what] of extra.examples) lines.push(esc(`# ${what}`), esc(c));
    lines.push('.fi', '.RE');
    if (extra.exits) {
      lines.push('.PP', 'Exit codes:', '.RS');
      for (const [code, meaning] of extra.exits) lines.push('.TP 4', `.B ${code}`, esc(meaning));
      lines.push('.RE');
    }
  }
  return lines.join('\n');
}

export function manPage(program: Command, version: string): string {
  const commands = allCommands(program).filter((c) => c !== program && c.name() !== 'help');
  const head = [
    `.TH VNET\\-VIRT 1 "" "vnet-virt ${esc(version)}" "User Commands"`,
    '.SH NAME',
    `vnet\\-virt \\- ${esc(program.description())}`,
    '.SH SYNOPSIS',
    '.B vnet\\-virt',
    '.I command',
    '[options] [arguments]',
    '.SH DESCRIPTION',
    esc(
      'vnet-virt gives a libvirt/QEMU guest the tap, veth or macvtap it needs and writes the matching <interface> into its domain XML, ' +
        'lints domain XML (text, JSON, SARIF, GitHub annotations, GitLab Code Quality, JUnit), and runs as a libvirt qemu hook. ' +
        'Every command prints its options, examples and exit codes with --help.',
    ),
    '.SH COMMANDS',
  ];
  const exits = ['.SH EXIT STATUS', ...COMMON_EXITS.flatMap(([code, meaning]) => ['.TP 4', `.B ${code}`, esc(meaning)])];
  const tail = [
    '.SH EXAMPLES',
    '.nf',
    ...HELP['']!.examples.flatMap(([c, what]) => [esc(`# ${what}`), esc(c)]),
    '.fi',
    '.SH SEE ALSO',
    '.BR virsh (1),',
    '.BR ip (8),',
    '.BR xmllint (1).',
    'The full reference is docs/reference.md and the lint rules are docs/rules.md in the package.',
  ];
  return [...head, ...commands.map(section), ...exits, ...tail].join('\n') + '\n';
}
