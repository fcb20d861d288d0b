#!/usr/bin/env node
import { main } from './program.js';
import { guardProcess } from './quiet-exit.js';

guardProcess();
process.exitCode = await main(process.argv.slice(2));
