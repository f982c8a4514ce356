#!/usr/bin/env node
/** The etcd-gen executable: runs the command line (src/commands/cli.ts) with this process's streams. */
import { hideBin } from 'yargs/helpers';
import { run } from './commands/cli.js';

process.exitCode = await run(hideBin(process.argv), process);
