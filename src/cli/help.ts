// What every --help ends with (examples and exit codes), and where a usage
// error points: one table for the whole CLI, read by the man page too.
import type { Command } from 'commander';

export type Example = readonly [command: string, what: string];
export type Exit = readonly [code: number, meaning: string];

export interface HelpExtra {
  examples: readonly Example[];
  /** Exit codes of this command; the common table when left out. */
  exits?: readonly Exit[];
}

export const COMMON_EXITS: readonly Exit[] = [
  [0, 'done (nothing to do is done too)'],
  [1, 'a host operation failed and everything done so far was undone'],
  [2, 'usage error: bad option, missing argument, bad option value'],
  [3, 'invalid input: XML not well-formed, not a domain, a clash, a bad plan'],
  [4, 'a host operation failed and the undo was incomplete: leftovers are listed'],
];

const FILE_EXITS: readonly Exit[] = [
  [0, 'done: the XML was written (or already had it)'],
  [2, 'usage error: bad option, missing argument, bad option value'],
  [3, 'invalid input: XML not well-formed, not a domain, a clash with the domain'],
];
const PROVISION_EXITS: readonly Exit[] = [...FILE_EXITS, [1, 'with --provision: a host operation failed and was undone (the XML is not written)'], [4, 'with --provision: the undo was incomplete: leftovers are listed']];
const PLAIN_EXITS: readonly Exit[] = [
  [0, 'done'],
  [2, 'usage error'],
  [3, 'invalid input or refused'],
];

/** Keyed by the command's path after `vnet-virt` ('' is the program itself). */
export const HELP: Readonly<Record<string, HelpExtra>> = {
  '': {
    examples: [
      ['vnet-virt attach-tap web1.xml --bridge br0 --provision --in-place', 'a tap on br0: create it and write the XML'],
      ['vnet-virt up web1.xml', 'create the devices a domain XML asks for'],
      ['vnet-virt lint /etc/libvirt/qemu', "lint this host's domains"],
      ['vnet-virt hook install', "run as libvirt's qemu hook"],
      ['vnet-virt lint --help', "a command's options, examples and exit codes"],
    ],
  },
  'attach-tap': {
    examples: [
      ['vnet-virt attach-tap web1.xml --bridge br0 --print-diff', 'show what would change'],
      ['vnet-virt attach-tap web1.xml --bridge br0 --provision --in-place', 'create the tap on br0, then write the file'],
      ['virsh dumpxml web1 | vnet-virt attach-tap - --tap t-web1 > web1.xml', 'from stdin to stdout'],
    ],
    exits: PROVISION_EXITS,
  },
  'attach-macvtap': {
    examples: [
      ['vnet-virt attach-macvtap web1.xml --lower veth1 --macvtap mvt-web1 --veth-peer veth0 --bridge br0 --in-place', 'a macvtap on a veth whose peer is on br0'],
      ['vnet-virt attach-macvtap web1.xml --lower eth1 --macvtap mvt0 --mode bridge --provision --in-place', 'on a NIC, created now'],
    ],
    exits: PROVISION_EXITS,
  },
  'attach-direct': {
    examples: [
      ['vnet-virt attach-direct web1.xml --source eth1 --mode bridge --in-place', 'libvirt makes the macvtap at start'],
      ['vnet-virt attach-direct web1.xml --source eth1 --trust-guest-rx-filters --print-diff', 'show the change only'],
    ],
    exits: FILE_EXITS,
  },
  detach: {
    examples: [
      ['vnet-virt detach web1.xml --target t-web1 --in-place', 'by target device'],
      ['vnet-virt detach web1.xml --mac 52:54:00:5e:11:02 --print-diff', 'by MAC, showing the change'],
    ],
    exits: FILE_EXITS,
  },
  up: {
    examples: [
      ['vnet-virt up web1.xml', 'create what the record asks for (a second run does nothing)'],
      ['vnet-virt up --dry-run /etc/libvirt/qemu', 'print the ip commands only'],
      ['vnet-virt up --netns lab --json web1.xml', 'in a namespace, with a JSON report'],
    ],
  },
  down: {
    examples: [
      ['vnet-virt down web1.xml', "delete only the devices marked as web1's"],
      ['vnet-virt down --dry-run web1.xml', 'print the ip commands only'],
    ],
  },
  check: {
    examples: [
      ['vnet-virt check web1.xml', 'differences between the host and the XML'],
      ['vnet-virt check --json /etc/libvirt/qemu', 'as JSON, for every domain of a folder'],
    ],
    exits: [
      [0, 'the host matches the XML (a summary line says so)'],
      [2, 'usage error'],
      [3, 'a difference (drift), listed one per line, or invalid input'],
    ],
  },
  lint: {
    examples: [
      ['vnet-virt lint /etc/libvirt/qemu', "lint this host's domains"],
      ['vnet-virt lint domains/ --format sarif > vnet-virt.sarif', 'SARIF for GitHub code scanning'],
      ['vnet-virt lint domains/ --format codeclimate > gl-code-quality.json', 'GitLab Code Quality'],
      ['vnet-virt lint domains/ --format junit > vnet-virt.junit.xml', 'JUnit XML for other CI servers'],
      ['vnet-virt lint domains/ --format github --summary "$GITHUB_STEP_SUMMARY"', 'annotations, and a Markdown summary with a picture of the domains'],
      ['virsh dumpxml web1 | vnet-virt lint -', 'a defined domain, from stdin'],
      ['vnet-virt lint --list-rules', 'every rule and its severity'],
    ],
    exits: [
      [0, 'no error-level finding, and no more warnings than --max-warnings'],
      [2, 'usage error, or no domain XML found in the inputs'],
      [3, 'error-level findings (a missing or unreadable file is one), or too many warnings'],
    ],
  },
  hook: {
    examples: [
      ['vnet-virt hook install', 'install as /etc/libvirt/hooks/qemu.d/vnet-virt'],
      ['vnet-virt hook status', 'what is installed, and its settings'],
    ],
    exits: PLAIN_EXITS,
  },
  'hook install': {
    examples: [
      ['vnet-virt hook install', 'into /etc/libvirt/hooks'],
      ['vnet-virt hook install --log syslog --timeout 20', 'log to syslog, 20 s per call'],
    ],
    exits: PLAIN_EXITS,
  },
  'hook uninstall': { examples: [['vnet-virt hook uninstall', 'remove what hook install wrote']], exits: PLAIN_EXITS },
  'hook status': { examples: [['vnet-virt hook status --hooks-dir /etc/libvirt/hooks', 'what is installed where']], exits: PLAIN_EXITS },
  'hook run': { examples: [['vnet-virt hook run web1 prepare begin - < web1.xml', 'what libvirt calls at start']] },
  'hook replay': {
    examples: [
      ['vnet-virt hook replay --xml web1.xml prepare begin --dry-run', 'what the hook would do at start'],
      ['vnet-virt hook replay --xml web1.xml release end', 'what it does at stop'],
    ],
  },
  netns: { examples: [['vnet-virt netns list --anonymous', 'namespaces without a name']], exits: PLAIN_EXITS },
  'netns list': { examples: [['vnet-virt netns list --json', 'every network namespace as JSON']], exits: PLAIN_EXITS },
  'netns attach': { examples: [['vnet-virt netns attach web-ct "$(machinectl show -p Leader --value web-ct)"', "name a container's namespace"]], exits: PLAIN_EXITS },
  'netns detach': { examples: [['vnet-virt netns detach web-ct', 'remove the name (not the namespace)']], exits: PLAIN_EXITS },
  container: { examples: [['vnet-virt container veth web-ct --bridge br0', 'a veth into a container, host end on br0']] },
  'container veth': {
    examples: [
      ['vnet-virt container veth web-ct --bridge br0 --address 192.0.2.2/24', 'a veth pair; a second run does nothing'],
      ['vnet-virt container veth 4242 --dry-run', 'the namespace of PID 4242, commands only'],
    ],
  },
  'container macvlan': { examples: [['vnet-virt container macvlan web-ct --parent eth1', 'a macvlan on eth1 in the container']] },
  'container remove': { examples: [['vnet-virt container remove web-ct --host-end ve-web-ct', 'delete the pair (only if ours)']] },
  show: {
    examples: [
      ['vnet-virt show web1.xml', "the guest's interfaces and the host devices behind them, as a tree"],
      ['vnet-virt show domains/ --host --format mermaid >> "$GITHUB_STEP_SUMMARY"', 'compared with the live devices, for a CI summary'],
      ['vnet-virt show web1.xml --format svg -o web1.svg', 'a picture, rendered in-process'],
    ],
    exits: [
      [0, 'drawn (drift is drawn, not an error: check fails on drift)'],
      [2, 'usage error'],
      [3, 'a domain XML is invalid'],
    ],
  },
  completion: {
    examples: [
      ['vnet-virt completion bash > /etc/bash_completion.d/vnet-virt', 'bash, for everyone'],
      ['vnet-virt completion zsh > "${fpath[1]}/_vnet-virt"', 'zsh'],
    ],
    exits: [
      [0, 'the script was printed'],
      [2, 'usage error: a shell other than bash or zsh'],
    ],
  },
};

/** A command's path after `vnet-virt`, e.g. 'hook install'. */
export function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every command below `root`, depth first, the root itself first. */
export function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((c) => allCommands(c))];
}

export function footer(extra: HelpExtra): string {
  const examples = extra.examples.map(([c, what]) => `  # ${what}\n  ${c}`);
  const exits = (extra.exits ?? COMMON_EXITS).map(([code, meaning]) => `  ${code}  ${meaning}`);
  return `\nExamples:\n${examples.join('\n')}\n\nExit codes:\n${exits.join('\n')}\n`;
}

/** The one line of a usage error, pointing at the --help of the command it concerns. */
export const usageLine = (message: string, path: string): string =>
  `vnet-virt: ${message.replace(/^error: /, '').replace(/\s*\n\s*(?=\S)/g, ' ').trimEnd()}; see vnet-virt ${path ? `${path} ` : ''}--help\n`;

let inUse = '';

/** The path of the command whose action runs (for usage errors it raises). */
export const commandInUse = (): string => inUse;

/** Adds the examples and exit codes to every command's --help, and points its usage errors at that --help. */
export function addHelp(program: Command): void {
  program.hook('preAction', (_root, action) => {
    inUse = pathOf(action);
  });
  for (const cmd of allCommands(program)) {
    const path = pathOf(cmd);
    const extra = HELP[path];
    if (extra) cmd.addHelpText('after', footer(extra));
    cmd.configureOutput({ ...cmd.configureOutput(), outputError: (s, write) => write(usageLine(s, path)) });
  }
}
