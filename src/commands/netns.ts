// netns list / attach / detach: named handles for anonymous network namespaces.
import { existsSync } from 'node:fs';
import { inputError, usageError, VnetError, ExitCode } from '../errors.js';
import { run } from '../host/run.js';
import { netnsNameProblem, scanNetns, NETNS_RUN_DIR } from '../netns/scan.js';
import type { NetnsInfo } from '../netns/scan.js';

export async function runNetnsList(opts: { anonymous?: boolean; json?: boolean }, out: (s: string) => void): Promise<void> {
  const all = scanNetns().filter((n) => !opts.anonymous || (n.names.length === 0 && !n.isHost));
  if (opts.json) {
    out(JSON.stringify({ namespaces: all }) + '\n');
    return;
  }
  const label = (n: NetnsInfo): string => (n.isHost ? '(host)' : n.names.length ? n.names.join(',') : '(anonymous)');
  const rows = all.map((n) => [label(n), String(n.inode), String(n.pids[0] ?? '-'), n.comm ?? '-', String(n.pids.length)]);
  const header = ['NAME', 'INODE', 'PID', 'COMMAND', 'PROCS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
}

function checkName(name: string): void {
  const problem = netnsNameProblem(name);
  if (problem) throw usageError('E_NETNS_NAME', `namespace name '${name}' ${problem}`, { where: 'NAME', hint: 'give a name such as ct1 (it becomes /run/netns/NAME)' });
}

export async function runNetnsAttach(name: string, pidText: string, out: (s: string) => void): Promise<void> {
  checkName(name);
  if (!/^\d+$/.test(pidText)) throw usageError('E_PID_INVALID', `'${pidText}' is not a process ID`, { where: 'PID', hint: 'give the number of a process in the namespace (vnet-virt netns list --anonymous shows them)' });
  const pid = Number(pidText);
  if (!existsSync(`/proc/${pid}/ns/net`))
    throw inputError('E_NO_PROCESS', `no process ${pid}`, { where: 'PID', hint: 'give the container leader PID (machinectl show -p Leader NAME)' });
  const target = scanNetns().find((n) => n.pids.includes(pid));
  if (target?.isHost)
    throw inputError('E_HOST_NETNS', `process ${pid} is in the host's own network namespace`, { where: 'PID', hint: 'give a PID inside the container' });
  if (target?.names.includes(name)) {
    out(`${name} already names the network namespace of process ${pid}\n`);
    return;
  }
  if (existsSync(`${NETNS_RUN_DIR}/${name}`))
    throw inputError('E_NETNS_EXISTS', `a namespace named '${name}' already exists for another namespace`, { where: 'NAME', hint: 'choose another name, or detach it first' });
  const r = await run(['ip', 'netns', 'attach', name, String(pid)]);
  if (r.code !== 0)
    throw new VnetError(`ip netns attach failed: ${r.stderr.trim()}`, { code: 'E_HOST_COMMAND', exitCode: ExitCode.hostFailedUndone, where: 'NAME' });
  out(`${name} -> network namespace of process ${pid}${target?.comm ? ` (${target.comm})` : ''}; use: ip netns exec ${name} ...\n`);
}

export async function runNetnsDetach(name: string, out: (s: string) => void): Promise<void> {
  checkName(name);
  const info = scanNetns().find((n) => n.names.includes(name));
  if (!info) throw inputError('E_NOT_FOUND', `no namespace named '${name}'`, { where: 'NAME', hint: 'list them with: vnet-virt netns list' });
  if (info.pids.length === 0)
    throw inputError('E_NETNS_ONLY_HANDLE', `'${name}' has no process inside: removing its name would destroy it`, {
      where: 'NAME',
      hint: `delete it on purpose with: ip netns delete ${name}`,
    });
  const r = await run(['ip', 'netns', 'delete', name]);
  if (r.code !== 0)
    throw new VnetError(`ip netns delete failed: ${r.stderr.trim()}`, { code: 'E_HOST_COMMAND', exitCode: ExitCode.hostFailedUndone, where: 'NAME' });
  out(`${name} removed; the namespace lives on with process ${info.pids[0]}\n`);
}
