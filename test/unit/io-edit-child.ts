// Child process of io-write.test: N --in-place attaches to one file, back to back; prints which succeeded.
import { runAttach, tapSpec } from '../../src/commands/attach.js';
import { VnetError } from '../../src/errors.js';

const [file, tag, count] = process.argv.slice(2);
const ok: string[] = [];
const failed: string[] = [];
for (let i = 0; i < Number(count); i++) {
  const tap = `t${tag}-${i}`;
  try {
    await runAttach('attach-tap', file!, { tap, inPlace: true }, tapSpec, () => {});
    ok.push(tap);
  } catch (e) {
    failed.push(e instanceof VnetError ? e.code : String(e));
  }
}
process.stdout.write(JSON.stringify({ ok, failed }));
