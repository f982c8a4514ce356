#!/usr/bin/env node
/**
 * The command line: parse arguments, call the library, print results and diagnostics, set the exit code.
 * Exit codes: 0 success; 1 a check found something to act on (stale output, certificates to renew);
 * 2 bad input or usage (nothing written); 3 anything unexpected.
 */
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
// Command modules are imported by their handlers, so --help and --version load almost nothing.
import type { Compiled } from './build.js';
import { formatDiagnostic, InputError, UsageError, type Diagnostic } from './diagnostics.js';
import { packageVersion } from './resources.js';

const EXIT_OK = 0;
const EXIT_ATTENTION = 1;
const EXIT_INPUT = 2;
const EXIT_INTERNAL = 3;

interface CommonArgs {
  config: string;
  secrets: string | undefined;
}
interface BuildArgs extends CommonArgs {
  out: string;
  check: boolean;
  renew: string[] | undefined;
  identity: string | undefined;
  rotateCa: boolean;
}
interface CertsArgs extends CommonArgs {
  json: boolean;
}
interface PlanArgs extends CommonArgs {
  out: string;
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) say(formatDiagnostic(d));
}

function printPkiActions(result: Compiled, verb: (action: string) => string): void {
  for (const pair of result.pki.pairs.values()) {
    if (pair.action === 'reused') continue;
    say(`etcd-gen: ${verb(pair.action)} ${pair.spec.id}${pair.reason ? `: ${pair.reason}` : ''}`);
  }
}

const ROTATION_MESSAGES = {
  trust: 'CA rotation 1/3: a new CA is created and trusted beside the current one; leaves are unchanged. Deploy ca.crt to every member and client, then run build --rotate-ca again',
  sign: 'CA rotation 2/3: the new CA now signs; every leaf was reissued, and the old CA is still trusted. Deploy the new certificates to every member and client (runbooks/rotate-certs.sh), then run build --rotate-ca again',
  finish: 'CA rotation 3/3: the old CA is no longer trusted. Deploy ca.crt everywhere; the rotation is complete',
} as const;

function renewOption(renew: string[] | undefined): readonly string[] | 'all' {
  if (renew === undefined) return [];
  return renew.length === 0 || renew.includes('all') ? 'all' : renew;
}

/** The age identity that opens encrypted secrets: --identity FILE, else ETCD_GEN_AGE_IDENTITY (the key itself). */
async function identityOption(file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) {
    const { readFile } = await import('node:fs/promises');
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the age identity ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  return process.env.ETCD_GEN_AGE_IDENTITY || undefined;
}

async function runBuild(args: BuildArgs): Promise<number> {
  const { build, check, displayFile } = await import('./build.js');
  const identity = await identityOption(args.identity);
  const options = {
    configFile: args.config,
    outDir: args.out,
    renew: renewOption(args.renew),
    ...(args.secrets !== undefined ? { secretsDir: args.secrets } : {}),
    ...(identity !== undefined ? { identity } : {}),
    rotateCa: args.rotateCa,
  };
  if (args.check) {
    const result = await check(options);
    printDiagnostics(result.diagnostics);
    printPkiActions(result, (action) => `would have ${action === 'issued' ? 'issued' : 'reissued'}`);
    const out = displayFile(path.resolve(args.out));
    if (result.upToDate) {
      say(`etcd-gen: ${out} is up to date with ${displayFile(args.config)}`);
      return EXIT_OK;
    }
    const { added, removed, changed } = result.drift;
    say(`etcd-gen: ${out} is out of date; run etcd-gen build (${added.length} to add, ${changed.length} to change, ${removed.length} to remove):`);
    for (const f of added) say(`  added    ${f}`);
    for (const f of changed) say(`  changed  ${f.path}${f.what === 'mode' ? ' (mode only)' : ''}`);
    for (const f of removed) say(`  removed  ${f}`);
    return EXIT_ATTENTION;
  }
  const result = await build(options);
  printDiagnostics(result.diagnostics);
  printPkiActions(result, (action) => action);
  const rotation = result.pki.rotation;
  if (rotation !== null) say(`etcd-gen: ${ROTATION_MESSAGES[rotation]}`);
  if (result.pki.pairs.get('ca')?.action === 'issued') {
    say(`etcd-gen: the new CA key is in ${displayFile(result.secretsDir)}: back it up; every later build of this cluster needs it`);
  }
  const { written, unchanged, removed } = result.report;
  const m = result.model;
  say(
    `etcd-gen: cluster ${m.name} (${m.members.length} member${m.members.length === 1 ? '' : 's'}, etcd ${m.etcd.text}) -> ${displayFile(path.resolve(args.out))}: ` +
      `${written.length} written, ${unchanged.length} unchanged, ${removed.length} removed`,
  );
  return EXIT_OK;
}

async function runCerts(args: CertsArgs): Promise<number> {
  const { certificateReport, formatCertTable } = await import('./certs.js');
  const { certSpecs } = await import('./pki/profiles.js');
  const { readCertificates } = await import('./pki/store.js');
  // Only the model is needed: compile() would issue what is missing, so read the secrets directly.
  const { model, secretsDir } = await compileModelOnly(args);
  const rows = certificateReport(model, await readCertificates(secretsDir, certSpecs(model).map((s) => s.id)), new Date());
  if (args.json) process.stdout.write(`${JSON.stringify({ cluster: model.name, certificates: rows }, null, 2)}\n`);
  else process.stdout.write(formatCertTable(rows));
  const attention = rows.filter((r) => r.status !== 'ok');
  if (attention.length > 0 && !args.json) {
    say(`etcd-gen: ${attention.length} certificate(s) need attention: run etcd-gen build to issue missing ones and renew those within tls.renewBeforeDays`);
  }
  return attention.length > 0 ? EXIT_ATTENTION : EXIT_OK;
}

async function compileModelOnly(args: CommonArgs) {
  const { loadClusterFile } = await import('./load.js');
  const { validateCluster } = await import('./validate.js');
  const { buildModel } = await import('./model.js');
  const { defaultSecretsDir } = await import('./build.js');
  const doc = await loadClusterFile(args.config);
  const validation = validateCluster(doc);
  if (!validation.config) throw new InputError(validation.diagnostics);
  printDiagnostics(validation.diagnostics);
  return { model: buildModel(validation.config, doc.fileName), secretsDir: args.secrets ?? defaultSecretsDir(args.config) };
}

async function runPlan(args: PlanArgs): Promise<number> {
  const { formatPlan, planMembership } = await import('./plan.js');
  const { displayFile } = await import('./build.js');
  const { model } = await compileModelOnly(args);
  const { inspectOutput } = await import('./write.js');
  const existing = await inspectOutput(args.out);
  if (!existing.manifest) {
    say(`etcd-gen: ${displayFile(path.resolve(args.out))} holds no earlier build: nothing to compare; a new cluster starts with etcd-gen build`);
    return EXIT_OK;
  }
  const plan = planMembership(existing.manifest.members ?? [], model);
  process.stdout.write(formatPlan(plan, model.name));
  return plan.steps.length > 0 ? EXIT_ATTENTION : EXIT_OK;
}

function withCommon<T>(y: Argv<T>): Argv<T & CommonArgs> {
  return y
    .positional('config', { type: 'string', demandOption: true, describe: 'Path of the cluster.yaml' })
    .option('secrets', {
      type: 'string',
      describe: 'Directory of the CA and private keys, kept between builds (default: secrets/ beside the cluster.yaml)',
    }) as unknown as Argv<T & CommonArgs>;
}

function cli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName('etcd-gen')
    .usage('$0 <command> [options]\n\nCompile one cluster.yaml into the PKI, configs, systemd units and admin tools of an external etcd cluster.')
    .command<BuildArgs>(
      'build <config>',
      'Build the output directory from a cluster.yaml',
      (y) =>
        withCommon(y)
          .option('out', { alias: 'o', type: 'string', default: 'out', describe: 'Output directory (created; only files etcd-gen wrote are ever replaced)' })
          .option('check', { type: 'boolean', default: false, describe: 'Write nothing; exit 1 and list the differences when the output is not what a build would write' })
          .option('identity', {
            type: 'string',
            describe: 'age identity file that opens an age-encrypted secrets directory (or set ETCD_GEN_AGE_IDENTITY to the key itself)',
          })
          .option('rotate-ca', {
            type: 'boolean',
            default: false,
            describe: 'Take the CA rotation one step further (3 steps: trust the new CA, sign with it, drop the old one; deploy after each)',
          })
          .option('renew', {
            type: 'array',
            string: true,
            describe: 'Reissue these leaf certificates (ids as etcd-gen certs lists them), or all leaves when given no id',
          })
          .example('$0 build examples/three-node/cluster.yaml -o out', 'Build the three-node example into out/')
          .example('$0 build cluster.yaml -o out --check', 'CI drift gate: exit 1 when out/ is stale')
          .example('$0 build cluster.yaml -o out --renew nodes/etcd1/server', 'Reissue one certificate')
          .example('$0 build cluster.yaml -o out --rotate-ca', 'Start (or continue) replacing the CA') as unknown as Argv<BuildArgs>,
      async (args) => {
        process.exitCode = await runBuild(args);
      },
    )
    .command<CertsArgs>(
      'certs <config>',
      'List every certificate with its names and expiry; exit 1 when any needs renewal',
      (y) =>
        withCommon(y)
          .option('json', { type: 'boolean', default: false, describe: 'Print JSON for scripts' })
          .example('$0 certs cluster.yaml', 'A table of certificates and days left')
          .example('$0 certs cluster.yaml --json | jq .certificates[].daysLeft', 'For cron and CI') as unknown as Argv<CertsArgs>,
      async (args) => {
        process.exitCode = await runCerts(args);
      },
    )
    .command<PlanArgs>(
      'plan <config>',
      'Print the safe, ordered steps from the membership of the existing output to the one in cluster.yaml',
      (y) =>
        withCommon(y)
          .option('out', { alias: 'o', type: 'string', default: 'out', describe: 'The existing output directory to compare with' })
          .example('$0 plan cluster.yaml -o out', 'What to run, in order, after adding or removing nodes') as unknown as Argv<PlanArgs>,
      async (args) => {
        process.exitCode = await runPlan(args);
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
      say(`etcd-gen: ${message}\nRun 'etcd-gen --help' for usage.`);
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
      say(`etcd-gen: ${errors} error${errors === 1 ? '' : 's'}; nothing was written`);
      process.exitCode = EXIT_INPUT;
      return;
    }
    if (err instanceof UsageError) {
      say(`etcd-gen: ${err.message}`);
      process.exitCode = EXIT_INPUT;
      return;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code && e.syscall) {
      say(`etcd-gen: cannot ${e.syscall} ${e.path ?? ''}: ${e.code}; nothing was written`);
    } else {
      say(`etcd-gen: internal error: ${e.message ?? String(err)}\nThis is a bug in etcd-gen; set ETCD_GEN_DEBUG=1 to see where it happened.`);
    }
    if (process.env.ETCD_GEN_DEBUG) say(e.stack ?? '');
    process.exitCode = EXIT_INTERNAL;
  }
}

await main();
