#!/usr/bin/env node
/**
 * The command line: parse arguments, call the library, print diagnostics, set the exit code.
 * Exit codes: 0 success, 2 bad input (nothing written), 1 anything unexpected.
 */
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { build, displayFile } from './build.js';
import { formatDiagnostic, InputError, type Diagnostic } from './diagnostics.js';
import { packageVersion } from './resources.js';

const EXIT_INPUT = 2;
const EXIT_INTERNAL = 1;

interface BuildArgs {
  config: string;
  out: string;
  secrets: string | undefined;
}

function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
}

async function runBuild(args: BuildArgs): Promise<number> {
  const result = await build({
    configFile: args.config,
    outDir: args.out,
    ...(args.secrets !== undefined ? { secretsDir: args.secrets } : {}),
  });
  printDiagnostics(result.diagnostics);
  for (const pair of result.pki.pairs.values()) {
    if (pair.action === 'reused') continue;
    const why = pair.reason ? `: ${pair.reason}` : '';
    process.stderr.write(`etcd-gen: ${pair.action} ${pair.spec.id}${why}\n`);
    if (pair.spec.isCa) {
      process.stderr.write(`etcd-gen: the CA key is in ${displayFile(result.secretsDir)}: back it up; every build of this cluster needs it\n`);
    }
  }
  const { written, unchanged, removed } = result.report;
  const m = result.model;
  process.stderr.write(
    `etcd-gen: cluster ${m.name} (${m.members.length} member${m.members.length === 1 ? '' : 's'}, etcd ${m.etcd.text}) -> ${displayFile(path.resolve(args.out))}: ` +
      `${written.length} written, ${unchanged.length} unchanged, ${removed.length} removed\n`,
  );
  return 0;
}

function cli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName('etcd-gen')
    .usage('$0 <command> [options]\n\nCompile one cluster.yaml into the PKI, configs, systemd units and admin tools of an external etcd cluster.')
    .command<BuildArgs>(
      'build <config>',
      'Build the output directory from a cluster.yaml',
      (y) =>
        y
          .positional('config', { type: 'string', demandOption: true, describe: 'Path of the cluster.yaml' })
          .option('out', { alias: 'o', type: 'string', default: 'out', describe: 'Output directory (created; only files etcd-gen wrote are ever replaced)' })
          .option('secrets', {
            type: 'string',
            describe: 'Directory of the CA and private keys, kept between builds (default: secrets/ beside the cluster.yaml)',
          })
          .example('$0 build examples/three-node/cluster.yaml -o out', 'Build the three-node example into out/')
          .example('$0 build cluster.yaml -o out --secrets /secure/k8s1-secrets', 'Keep the CA key outside the repository') as unknown as Argv<BuildArgs>,
      async (args) => {
        process.exitCode = await runBuild(args);
      },
    )
    .demandCommand(1, 'Name a command: etcd-gen build cluster.yaml -o out')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`etcd-gen: ${message}\nRun 'etcd-gen --help' for usage.\n`);
      process.exit(EXIT_INPUT);
    });
}

async function main(): Promise<void> {
  try {
    await cli(hideBin(process.argv)).parseAsync();
  } catch (err) {
    if (err instanceof InputError) {
      printDiagnostics(err.diagnostics);
      const errors = err.diagnostics.filter((d) => d.severity === 'error').length;
      process.stderr.write(`etcd-gen: ${errors} error${errors === 1 ? '' : 's'}; nothing was written\n`);
      process.exitCode = EXIT_INPUT;
      return;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code && e.syscall) {
      process.stderr.write(`etcd-gen: cannot ${e.syscall} ${e.path ?? ''}: ${e.code}\n`);
    } else {
      process.stderr.write(`etcd-gen: internal error: ${e.message ?? String(err)}\nThis is a bug in etcd-gen; set ETCD_GEN_DEBUG=1 to see where it happened.\n`);
    }
    if (process.env.ETCD_GEN_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
    process.exitCode = EXIT_INTERNAL;
  }
}

await main();
