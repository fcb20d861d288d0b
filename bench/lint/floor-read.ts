// The floor under lint in Node: start node, walk the tree, read every *.xml file into one reused buffer, and
// nothing else (no decoding, no parse, no rule). bench/lint/scale.ts runs it beside lint: whatever lint does on top
// of this is its parse and rules. Usage: node dist/bench/lint/floor-read.js DIR
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

const buf = Buffer.allocUnsafe(1 << 20);
let files = 0;
let bytes = 0;
function walk(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.xml')) {
      const fd = openSync(p, 'r');
      for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) bytes += n;
      closeSync(fd);
      files++;
    }
  }
}
walk(process.argv[2]!);
process.stdout.write(`${files} files, ${bytes} bytes\n`);
