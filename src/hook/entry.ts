// What libvirt runs (through the installed script): `entry.js DOMAIN OP SUB-OP EXTRA`, XML on stdin.
// Not commander: this file must start as fast as `node -e 0` when there is nothing to do.
// No top-level await: scripts/bundle-hook.mjs also bundles it as CommonJS (no ES module loader to start).
import { hookMain, readStdin } from './dispatch.js';

void hookMain(process.argv.slice(2), {
  stdin: readStdin,
  stderr: (s) => process.stderr.write(s),
  stdout: (s) => process.stdout.write(s),
  env: process.env,
}).then((result) => {
  // exit() rather than exitCode: a child left running after a time-out must not hold the VM start.
  process.exit(result.code);
});
