// Benchmark (not a test): one `up` then one `down` of 100 domains (50 with a tap
// on a bridge, 50 with veth + macvtap) in a fresh namespace, against a plain
// shell script of the same ip commands. Run as root: node dist/bench/provision/run.js [rounds]
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { macvtapSpec, runAttach, tapSpec } from '../../src/commands/attach.js';

const repo = new URL('../../../', import.meta.url).pathname;
const cli = join(repo, 'dist/src/cli/main.js');
const quickstart = readFileSync(join(repo, 'fixtures/quickstart/web1.xml'), 'utf8');
const PER_KIND = 50;
const rounds = Number(process.argv[2] ?? 3);

async function makeDomains(dir: string): Promise<void> {
  const quiet = (): void => {};
  for (let n = 0; n < PER_KIND * 2; n++) {
    const uuid = `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
    const file = join(dir, `vm${n.toString().padStart(3, '0')}.xml`);
    writeFileSync(file, quickstart.replace('<name>web1</name>', `<name>vm${n}</name>`).replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${uuid}</uuid>`));
    if (n < PER_KIND) await runAttach('attach-tap', file, { tap: `bt-${n}`, bridge: 'br0', inPlace: true }, tapSpec, quiet);
    else await runAttach('attach-macvtap', file, { lower: `bl-${n}`, vethPeer: `bp-${n}`, bridge: 'br0', macvtap: `bm-${n}`, inPlace: true }, macvtapSpec, quiet);
  }
}

function timed(argv: string[]): { ms: number; stdout: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const deviceCount = (ns: string): number => (JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show'], { encoding: 'utf8' })) as unknown[]).length;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: it creates a network namespace');
  const dir = mkdtempSync(join(tmpdir(), 'vnet-bench-'));
  const ns = `vnet-bench-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    await makeDomains(dir);
    execFileSync('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    const empty = deviceCount(ns);
    const ours = { up: [] as number[], down: [] as number[] };
    const shell = { up: [] as number[], down: [] as number[] };
    const naiveDown: number[] = [];
    let commands = 0;
    for (let i = 0; i < rounds; i++) {
      // The shell scripts run exactly the commands vnet-virt plans, one ip process each.
      const upScript = timed(['node', cli, 'up', dir, '--netns', ns, '--dry-run']).stdout;
      commands = upScript.trim().split('\n').length;
      writeFileSync(join(dir, 'up.sh'), `set -e\n${upScript}`);
      ours.up.push(timed(['node', cli, 'up', dir, '--netns', ns]).ms);
      const full = deviceCount(ns);
      const downScript = timed(['node', cli, 'down', dir, '--netns', ns, '--dry-run']).stdout;
      writeFileSync(join(dir, 'down.sh'), `set -e\n${downScript}`);
      // How a hand-written script deletes: one `ip link del` per device.
      const naive = downScript.split('\n').flatMap((l) => {
        const m = l.match(/^(ip -n \S+ link) set (dev \S+) group \d+$/);
        return m ? [`${m[1]} del ${m[2]}`] : [];
      });
      writeFileSync(join(dir, 'down-naive.sh'), `set -e\n${naive.join('\n')}\n`);
      ours.down.push(timed(['node', cli, 'down', dir, '--netns', ns]).ms);
      if (deviceCount(ns) !== empty) throw new Error('vnet-virt down left devices');
      shell.up.push(timed(['sh', join(dir, 'up.sh')]).ms);
      if (deviceCount(ns) !== full) throw new Error('the shell script made a different number of devices');
      shell.down.push(timed(['sh', join(dir, 'down.sh')]).ms);
      if (deviceCount(ns) !== empty) throw new Error('the shell down script left devices');
      timed(['sh', join(dir, 'up.sh')]);
      naiveDown.push(timed(['sh', join(dir, 'down-naive.sh')]).ms);
      if (deviceCount(ns) !== empty) throw new Error('the naive down script left devices');
    }
    const row = (what: string, a: number[], b: number[]): string =>
      `${what.padEnd(5)} vnet-virt ${median(a).toFixed(0).padStart(6)} ms   shell ${median(b).toFixed(0).padStart(6)} ms   shell/vnet-virt ${(median(b) / median(a)).toFixed(2)}x`;
    console.log(`${PER_KIND} domains with a tap on a bridge + ${PER_KIND} with veth + macvtap; ${commands} ip commands for up; median of ${rounds} rounds`);
    console.log(row('up', ours.up, shell.up));
    console.log(row('down', ours.down, shell.down));
    console.log(`down  vnet-virt ${median(ours.down).toFixed(0).padStart(6)} ms   shell with one \`ip link del\` per device ${median(naiveDown).toFixed(0).padStart(6)} ms   ${(median(naiveDown) / median(ours.down)).toFixed(2)}x`);
    const sum = (x: { up: number[]; down: number[] }): number => median(x.up) + median(x.down);
    console.log(`total vnet-virt ${sum(ours).toFixed(0).padStart(6)} ms   shell ${sum(shell).toFixed(0).padStart(6)} ms   shell/vnet-virt ${(sum(shell) / sum(ours)).toFixed(2)}x`);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
