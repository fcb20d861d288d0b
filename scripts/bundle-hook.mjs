#!/usr/bin/env node
// Bundles the compiled hook (dist/src/hook/entry.js and everything it loads)
// into one file, dist/src/hook/hook.bundle.cjs, which `hook install` prefers:
// one file to read and compile instead of ~25 modules to resolve and link, and
// CommonJS, so node starts no ES module loader for it (see docs/design.md,
// "The hook's start-up"). hook.bundle.js, the same as an ES module, stays for
// scripts installed before (they name it). Run after tsc.
let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  // Without the dev dependency the hook runs unbundled (entry.js): slower to start, same behaviour.
  console.error('bundle-hook: esbuild is not installed; the hook will run dist/src/hook/entry.js unbundled');
  process.exit(0);
}
const dir = new URL('../dist/src/hook/', import.meta.url).pathname;
for (const [format, outfile] of [
  ['cjs', 'hook.bundle.cjs'],
  ['esm', 'hook.bundle.js'],
])
  await build({
    entryPoints: [`${dir}entry.js`],
    outfile: `${dir}${outfile}`,
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
