/**
 * The command line's wiring: yargs' commands and options, each handed to its module in src/commands/ (a
 * typed function from arguments to an exit code), and every failure turned into its exit code. Command
 * modules are imported by their handlers, so --help and --version load almost nothing. Nothing is read at
 * import time: `run` takes the arguments and the streams, so tests can run a command in-process.
 * Exit codes (src/commands/console.ts): 0 success; 1 a check found something to act on (stale output,
 * certificates to renew, steps for `plan` to carry out, a cluster that `status` finds unlike out/); 2 bad
 * input or usage, or a path that cannot be read or written (nothing written); 3 anything unexpected; 4
 * `status` found no quorum.
 */
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { InputError, UsageError } from '../diagnostics.js';
import { packageVersion } from '../resources.js';
import { Console, EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, diagnosticJson, type Streams } from './console.js';

// yargs' CommonJS build: its help layout wraps at word boundaries (wrap-ansi); the ESM build's cuts
// words in half wherever the column ends ("admi" / "n tools").
const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;

/** The positional cluster.yaml and --secrets, which build, certs and plan share. */
function withCommon<T>(y: Argv<T>) {
  return y
    .positional('config', { type: 'string', demandOption: true, describe: 'Path of the cluster.yaml' })
    .option('secrets', {
      type: 'string',
      describe: 'Directory of the CA and private keys, kept between builds (default: secrets/ beside the cluster.yaml)',
    });
}

function parser(argv: readonly string[], con: Console, result: { code: number }): Argv {
  return yargs([...argv])
    .scriptName('etcd-gen')
    .usage('$0 <command> [options]\n\nCompile one cluster.yaml into the PKI, configs, systemd units and admin tools of an external etcd cluster.')
    .command(
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
            describe: 'Take the CA rotation one step further (3 steps: trust the new CA, sign with it, drop the old one; deploy after each). An expired CA is replaced in one step',
          })
          .option('revoke', {
            type: 'array',
            string: true,
            describe:
              "Revoke certificates the CA signed, without a new CA: ids (reissued too), PEM certificate files, or hex serials. They go on the CA's revocation list (secrets/ca.crl), which every member gets and etcd checks on its client and peer ports",
          })
          .option('renew', {
            type: 'array',
            string: true,
            describe: 'Reissue these leaf certificates (ids as etcd-gen certs lists them), or all leaves when given no id',
          })
          .example('$0 build examples/three-node/cluster.yaml -o out', 'Build the three-node example into out/')
          .example('$0 build cluster.yaml -o out --check', 'CI drift gate: exit 1 when out/ is stale')
          .example('$0 build cluster.yaml -o out --renew nodes/etcd1/server', 'Reissue one certificate')
          .example('$0 build cluster.yaml -o out --rotate-ca', 'Start (or continue) replacing the CA')
          .example('$0 build cluster.yaml -o out --revoke env/etcd-client.pem', "Revoke the manual procedure's shared client certificate"),
      async (args) => {
        result.code = await (await import('./build.js')).runBuild(args, con);
      },
    )
    .command(
      'certs <config>',
      'List every certificate with its names and expiry; exit 1 when any needs renewal',
      (y) =>
        withCommon(y)
          .example('$0 certs cluster.yaml', 'A table of certificates and days left')
          .example('$0 certs cluster.yaml --json | jq .certificates[].daysLeft', 'For cron and CI'),
      async (args) => {
        result.code = await (await import('./certs.js')).runCerts(args, con);
      },
    )
    .command(
      'plan <config>',
      'Print the safe, ordered steps from the membership and etcd release of the existing output to those in cluster.yaml',
      (y) =>
        withCommon(y)
          .option('out', { alias: 'o', type: 'string', default: 'out', describe: 'The existing output directory to compare with' })
          .example('$0 plan cluster.yaml -o out', 'What to run, in order, after adding or removing nodes or changing etcd.version'),
      async (args) => {
        result.code = await (await import('./plan.js')).runPlan(args, con);
      },
    )
    .command(
      'status <config>',
      'Compare the running cluster with out/ (read only, every member at once): members, releases, alarms, served certificates; writes state/observed.json. Exit 0: as out/ describes; 1: differences; 4: no quorum',
      (y) =>
        withCommon(y)
          .option('out', { alias: 'o', type: 'string', default: 'out', describe: 'The output directory the cluster was deployed from (its expected.json and admin certificate)' })
          .option('timeout', { type: 'number', default: 2000, describe: 'Bound of each request, in ms (all members are asked at once)' })
          .option('write', { type: 'boolean', default: true, describe: 'Write state/observed.json beside cluster.yaml (--no-write: do not)' })
          .epilog(
            'Asks each member for its member list, endpoint status (release, leader, raft index, db size and in use against the quota), alarms and cluster version over the gRPC gateway with the admin certificate, and reads the server and peer certificate it serves. See docs/status.md.',
          )
          .example('$0 status cluster.yaml -o out', 'Is the running cluster what out/ describes?')
          .example('$0 status cluster.yaml -o out --json | jq .differences', 'For cron and CI (exit 4: no quorum)'),
      async (args) => {
        result.code = await (await import('./status.js')).runStatus(args, con);
      },
    )
    .command(
      'import <env-dir>',
      "Describe a cluster built by the manual cfssl procedure: read its env directory (<node>.conf files, ca.pem, ca-key.pem), write a cluster.yaml and a secrets directory that keeps its CA",
      (y) =>
        y
          .positional('env-dir', { type: 'string', demandOption: true, describe: "The procedure's env directory" })
          .option('out', { alias: 'o', type: 'string', default: 'cluster.yaml', describe: 'The cluster.yaml to write (never replaced)' })
          .option('secrets', { type: 'string', describe: 'Secrets directory to put the CA in (default: secrets/ beside the cluster.yaml; never replaced)' })
          .option('etcd-version', { type: 'string', demandOption: true, describe: 'The etcd release the members run (etcd --version)' })
          .option('name', { type: 'string', describe: 'Cluster name (a DNS label; default: from the member names)' })
          .option('data-dir', { type: 'string', describe: "The members' data directory, kept in place (default /var/lib/etcd)" })
          .option('member-list', { type: 'string', describe: 'Output of etcdctl member list -w json: checked against the .conf files' })
          .example('$0 import k8s-core/docs/etcd/env --etcd-version 3.5.13 -o cluster.yaml', "Import the procedure's cluster"),
      async (args) => {
        result.code = await (await import('./import.js')).runImport(args, con);
      },
    )
    .command(
      'init [file]',
      'Write a commented starter cluster.yaml that builds as is (asks on a terminal when no --node is given)',
      (y) =>
        y
          .positional('file', { type: 'string', default: 'cluster.yaml', describe: 'Where to write it' })
          .option('name', { type: 'string', describe: 'Cluster name (a DNS label)' })
          .option('etcd-version', { type: 'string', describe: 'etcd version, 3.5.x to 3.7.x (default: the newest etcd-gen knows; 3.4 only through import)' })
          .option('node', { type: 'array', string: true, describe: 'A member as name=host or name=host,ip (repeat it)' })
          .option('force', { type: 'boolean', default: false, describe: 'Replace an existing file' })
          .example('$0 init', 'Answer a few questions')
          .example('$0 init cluster.yaml --name k8s1 --node etcd1=10.0.0.11 --node etcd2=10.0.0.12 --node etcd3=10.0.0.13', 'Without questions'),
      async (args) => {
        result.code = await (await import('./init.js')).runInit(args, con);
      },
    )
    .command(
      'explain [field]',
      'Explain a cluster.yaml field (type, default, meaning), or list them all',
      (y) =>
        y
          .positional('field', { type: 'string', describe: 'A field path such as tls.certDays or nodes.host' })
          .example('$0 explain tls.renewBeforeDays', 'One field')
          .example('$0 explain', 'Every field'),
      async (args) => {
        result.code = (await import('./explain.js')).runExplain(args, con);
      },
    )
    .command(
      'schema',
      'Print the JSON Schema of cluster.yaml (for editors and CI)',
      (y) => y.example('$0 schema > cluster.schema.json', 'Keep a copy for an editor or a CI check'),
      async () => {
        result.code = (await import('./explain.js')).runSchema(con);
      },
    )
    .completion('completion', 'Print a bash/zsh completion script: etcd-gen completion >> ~/.bashrc')
    .option('quiet', { alias: 'q', type: 'boolean', default: false, global: true, describe: 'Print only problems and what a command was asked for' })
    .option('json', { type: 'boolean', default: false, global: true, describe: 'Machine-readable results and diagnostics on stdout' })
    .middleware((args) => {
      con.quiet = Boolean(args.quiet);
      con.json = Boolean(args.json);
    })
    .example('$0 init cluster.yaml --name k8s1', 'Start a cluster.yaml')
    .example('$0 build cluster.yaml -o out', 'Build (or update) the output directory')
    .example('$0 <command> --help', 'Options and examples of one command')
    .demandCommand(1, 'Name a command: etcd-gen build cluster.yaml -o out')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .wrap(Math.min(110, con.io.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message, "Run 'etcd-gen --help' for usage.");
    });
}

/**
 * Runs one etcd-gen command line (`argv` without node and the script) with `io`'s streams and environment,
 * and gives its exit code. Never throws: a failure is printed (src/commands/console.ts) and mapped to 2
 * (input, usage, or a path the user must fix) or 3 (a bug; ETCD_GEN_DEBUG=1 adds the stack).
 */
export async function run(argv: readonly string[], io: Streams): Promise<number> {
  const con = new Console(io, argv.includes('--json'));
  const result = { code: EXIT_OK };
  try {
    await parser(argv, con, result).parseAsync();
    return result.code;
  } catch (err) {
    return failure(err, con);
  }
}

function failure(err: unknown, con: Console): number {
  if (err instanceof InputError) {
    if (con.json) {
      con.printJson({ ok: false, diagnostics: err.diagnostics.map(diagnosticJson) });
      return EXIT_INPUT;
    }
    con.printDiagnostics(err.diagnostics);
    const errors = err.diagnostics.filter((d) => d.severity === 'error').length;
    con.io.stderr.write(`etcd-gen: ${errors} error${errors === 1 ? '' : 's'}; nothing was written\n`);
    return EXIT_INPUT;
  }
  if (err instanceof UsageError) {
    con.printFailure('usage', err.message, err.hint);
    return EXIT_INPUT;
  }
  const e = err as NodeJS.ErrnoException;
  let code = EXIT_INTERNAL;
  // A path that cannot be read or written is the user's to fix (exit 2), not a bug.
  if (e.code && e.syscall) {
    con.printFailure('io', `cannot ${e.syscall} ${e.path ?? ''}: ${e.code}; check the path and its permissions; nothing was written`.replace(' :', ':'));
    code = EXIT_INPUT;
  } else {
    con.printFailure('internal', `internal error: ${e.message ?? String(err)}`, 'This is a bug in etcd-gen; set ETCD_GEN_DEBUG=1 to see where it happened.');
  }
  if (con.io.env.ETCD_GEN_DEBUG) con.io.stderr.write(`${e.stack ?? ''}\n`);
  return code;
}
