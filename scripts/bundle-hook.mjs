#!/usr/bin/env node
// Bundles the compiled hook (dist/src/hook/entry.js and everything it loads)
// into one file, dist/src/hook/hook.bundle.js, which `hook install` prefers:
// one file to read and compile instead of ~25 modules to resolve and link
// (see docs/design.md, "The hook's start-up"). Run after tsc.
let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  // Without the dev dependency the hook runs unbundled (entry.js): slower to start, same behaviour.
  console.error('bundle-hook: esbuild is not installed; the hook will run dist/src/hook/entry.js unbundled');
  process.exit(0);
}
const dir = new URL('../dist/src/hook/', import.meta.url).pathname;
await build({
  entryPoints: [`${dir}entry.js`],
  outfile: `${dir}hook.bundle.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});
