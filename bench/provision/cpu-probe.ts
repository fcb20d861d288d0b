// Loaded with `node --import` by bench/provision: at exit, writes this process's
// own CPU time (not its children's) to $VNET_BENCH_CPU_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env['VNET_BENCH_CPU_FILE'];
if (file) process.on('exit', () => writeFileSync(file, JSON.stringify(process.cpuUsage())));
