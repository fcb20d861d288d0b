#!/usr/bin/env node
// Writes man/vnet-virt.1 from the built CLI's definitions (npm run man; prepack runs it).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const { buildProgram } = await import(new URL('dist/src/cli/program.js', root).href);
const { manPage } = await import(new URL('dist/src/cli/man.js', root).href);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
mkdirSync(new URL('man/', root), { recursive: true });
writeFileSync(new URL('man/vnet-virt.1', root), manPage(buildProgram(), version));
