#!/usr/bin/env node
/**
 * The command line: parse arguments, call the library, print results and diagnostics, set the exit code.
 * Exit codes: 0 success; 1 a check found something to act on (stale output, certificates to renew);
 * 2 bad input or usage, or a path that cannot be read or written (nothing written); 3 anything unexpected.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
// Command modules are imported by their handlers, so --help and --version load almost nothing.
import type { Compiled } from './build.js';
import { formatDiagnostic, InputError, UsageError, type Diagnostic } from './diagnostics.js';
import { packageVersion } from './resources.js';

// yargs' CommonJS build: its help layout wraps at word boundaries (wrap-ansi); the ESM build's cuts
// words in half wherever the column ends ("admi" / "n tools").
const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;

const EXIT_OK = 0;
const EXIT_ATTENTION = 1;
const EXIT_INPUT = 2;
const EXIT_INTERNAL = 3;

interface GlobalArgs {
  quiet: boolean;
  json: boolean;
}
interface CommonArgs extends GlobalArgs {
  config: string;
  secrets: string | undefined;
}
interface BuildArgs extends CommonArgs {
  out: string;
  check: boolean;
  renew: string[] | undefined;
  identity: string | undefined;
  rotateCa: boolean;
  revoke: string[] | undefined;
}
type CertsArgs = CommonArgs;
interface ExplainArgs extends GlobalArgs {
  field: string | undefined;
}
interface InitArgs extends GlobalArgs {
  file: string;
  name: string | undefined;
  etcdVersion: string | undefined;
  node: string[] | undefined;
  force: boolean;
}
interface PlanArgs extends CommonArgs {
  out: string;
}
interface ImportArgs extends GlobalArgs {
  envDir: string;
  out: string;
  secrets: string | undefined;
  etcdVersion: string;
  name: string | undefined;
  dataDir: string | undefined;
  memberList: string | undefined;
}

/** Set from the global flags before a command runs. */
const output = { quiet: false, json: process.argv.includes('--json') };
/** Progress and summaries, on stderr; --quiet and --json silence them. */
const say = (line: string): void => {
  if (!output.quiet && !output.json) process.stderr.write(`${line}\n`);
};
const color = process.stderr.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
const paint = (code: number, text: string): string => (color ? `\u001b[${code}m${text}\u001b[0m` : text);

function diagnosticJson(d: Diagnostic) {
  return { severity: d.severity, file: d.file, line: d.position.line, column: d.position.column, path: d.pointer, message: d.message };
}

/** Problems are always shown (on stderr), warnings too unless --quiet; with --json they go into the JSON. */
function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  if (output.json) return;
  for (const d of diagnostics) {
    if (d.severity === 'warning' && output.quiet) continue;
    const line = formatDiagnostic(d);
    process.stderr.write(`${d.severity === 'warning' ? paint(33, line) : paint(31, line)}\n`);
  }
}

/** Progress only for a person watching: on a terminal, not in CI, not with --quiet or --json. */
function showProgress(): boolean {
  return process.stderr.isTTY === true && !process.env.CI && !output.quiet && !output.json;
}

function keyProgress(done: number, total: number): void {
  // RSA-4096 keys take seconds each; a single key needs no counter.
  if (total < 2) return;
  process.stderr.write(`\r\u001b[2Ketcd-gen: generating keys ${done}/${total}${done === total ? '\n' : ''}`);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

type FailureKind = 'usage' | 'io' | 'internal';

/**
 * A failure that is not about a line of the input: a usage error, a file that cannot be read or written,
 * or a bug. Always printed, whatever --quiet says: one `etcd-gen: ...` line on stderr, or under --json
 * `{ ok: false, error: { kind, message }, diagnostics: [] }` on stdout.
 */
function printFailure(kind: FailureKind, message: string, hint?: string): void {
  if (output.json) printJson({ ok: false, error: { kind, message }, diagnostics: [] });
  else process.stderr.write(`etcd-gen: ${message}\n${hint ? `${hint}\n` : ''}`);
}

function printPkiActions(result: Compiled, verb: (action: string) => string): void {
  for (const pair of result.pki.pairs.values()) {
    if (pair.action === 'reused') continue;
    say(`etcd-gen: ${verb(pair.action)} ${pair.spec.id}${pair.reason ? `: ${pair.reason}` : ''}`);
  }
}

const ROTATION_MESSAGES = {
  trust:
    'CA rotation 1/3: a new CA is created and trusted beside the current one; leaves are unchanged. Deploy ca.crt to every member (runbooks/rotate-certs.sh) and client, ' +
    'and kubernetes/root/ to the control-plane nodes, restarting kube-apiserver there one at a time (it reads its etcd CA bundle only at start), then run build --rotate-ca again',
  sign:
    'CA rotation 2/3: the new CA now signs; every leaf was reissued, and the old CA is still trusted. Deploy the new certificates to every member (runbooks/rotate-certs.sh) and client, ' +
    'and kubernetes/root/ to the control-plane nodes, restarting kube-apiserver there one at a time (it uses a new client certificate only on new connections), then run build --rotate-ca again',
  finish:
    'CA rotation 3/3: the old CA is no longer trusted. Deploy ca.crt everywhere (runbooks/rotate-certs.sh), and kubernetes/root/ to the control-plane nodes, ' +
    'restarting kube-apiserver there one at a time; the rotation is complete',
  replace:
    'CA replaced: the CA had expired, so a new one signed every certificate at once and is the only CA trusted. The cluster stays down until every member has them: ' +
    'run runbooks/rotate-certs.sh --all-at-once, then install kubernetes/root/ on the control-plane nodes and restart kube-apiserver there (it reads its etcd CA bundle only at start)',
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
    ...(args.revoke !== undefined ? { revoke: args.revoke } : {}),
    ...(showProgress() ? { onKey: keyProgress } : {}),
  };
  if (args.check) {
    const result = await check(options);
    if (output.json) {
      printJson({ ok: result.upToDate, upToDate: result.upToDate, ...result.drift, diagnostics: result.diagnostics.map(diagnosticJson) });
      return result.upToDate ? EXIT_OK : EXIT_ATTENTION;
    }
    printDiagnostics(result.diagnostics);
    printPkiActions(result, (action) => `would have ${action === 'issued' ? 'issued' : 'reissued'}`);
    const out = displayFile(path.resolve(args.out));
    if (result.upToDate) {
      say(`etcd-gen: ${out} is up to date with ${displayFile(args.config)}`);
      return EXIT_OK;
    }
    const { added, removed, changed } = result.drift;
    say(`etcd-gen: ${out} is out of date; run etcd-gen build (${added.length} to add, ${changed.length} to change, ${removed.length} to remove):`);
    // The list is the answer of --check: shown even with --quiet.
    const list = (line: string) => process.stderr.write(`${line}\n`);
    for (const f of added) list(`  added    ${f}`);
    for (const f of changed) list(`  changed  ${f.path}${f.what === 'mode' ? ' (mode only)' : ''}`);
    for (const f of removed) list(`  removed  ${f}`);
    return EXIT_ATTENTION;
  }
  const result = await build(options);
  // A build that changes the membership the output was built for says what the running cluster needs.
  const { formatPlan, planMembership } = await import('./plan.js');
  const previousMembers = result.existing.manifest?.members;
  const plan = previousMembers ? planMembership(previousMembers, result.model) : null;
  const steps = plan !== null && plan.steps.length > 0 ? plan : null;
  if (output.json) {
    printJson({
      ok: true,
      cluster: result.model.name,
      out: args.out,
      ...result.report,
      membershipSteps: steps?.steps ?? [],
      rolloutSteps: result.rolloutSteps,
      releaseSteps: result.releaseSteps,
      certificates: [...result.pki.pairs.values()].map((p) => ({ id: p.spec.id, action: p.action, reason: p.reason, notAfter: p.notAfter.toISOString() })),
      rotation: result.pki.rotation,
      revoked: result.crl?.added.map((t) => ({ from: t.from, serial: t.serial })) ?? [],
      interrupted: result.interrupted,
      diagnostics: result.diagnostics.map(diagnosticJson),
    });
    return EXIT_OK;
  }
  if (result.interrupted !== null) {
    say(`etcd-gen: finished the build that stopped at ${result.interrupted.at} while putting its files in place (${result.interrupted.renamed} left to rename)`);
  }
  printDiagnostics(result.diagnostics);
  printPkiActions(result, (action) => action);
  const rotation = result.pki.rotation;
  if (rotation !== null) say(`etcd-gen: ${ROTATION_MESSAGES[rotation]}`);
  for (const t of result.crl?.added ?? []) say(`etcd-gen: revoked ${t.from} (serial ${t.serial})`);
  if (result.crl?.changed) {
    say(`etcd-gen: the CA's revocation list now has ${result.crl.entries.length} entr${result.crl.entries.length === 1 ? 'y' : 'ies'}; install it on every member with runbooks/rotate-certs.sh (the first list also changes etcd.conf, so each member restarts in turn)`);
  }
  const caAction = result.pki.pairs.get('ca')?.action;
  if (caAction === 'issued' || caAction === 'reissued') {
    say(`etcd-gen: the new CA key is in ${displayFile(result.secretsDir)}: back it up; every later build of this cluster needs it`);
  }
  const { written, unchanged, removed } = result.report;
  const m = result.model;
  say(
    `etcd-gen: cluster ${m.name} (${m.members.length} member${m.members.length === 1 ? '' : 's'}, etcd ${m.etcd.text}) -> ${displayFile(path.resolve(args.out))}: ` +
      `${written.length} written, ${unchanged.length} unchanged, ${removed.length} removed`,
  );
  if (steps !== null) {
    say('etcd-gen: the membership changed: deploy the new members\' files, then carry out these steps on the running cluster:');
    process.stderr.write(formatPlan(steps, m.name, result.rolloutSteps));
  } else if (plan !== null && result.rolloutSteps.length > 0) {
    say('etcd-gen: the running cluster needs these steps:');
    process.stderr.write(formatPlan(plan, m.name, result.rolloutSteps));
  }
  return EXIT_OK;
}

async function runCerts(args: CertsArgs): Promise<number> {
  const { certificateReport, formatCertTable, formatRevokedTable, revokedReport } = await import('./certs.js');
  const { certSpecs } = await import('./pki/profiles.js');
  const { readCertificates } = await import('./pki/store.js');
  // Only the model is needed: compile() would issue what is missing, so read the secrets directly.
  const { model, secretsDir } = await compileModelOnly(args);
  const rows = certificateReport(model, await readCertificates(secretsDir, certSpecs(model).map((s) => s.id)), new Date());
  const revoked = await revokedReport(secretsDir);
  if (args.json) process.stdout.write(`${JSON.stringify({ cluster: model.name, certificates: rows, revoked }, null, 2)}\n`);
  else {
    process.stdout.write(formatCertTable(rows));
    if (revoked.length > 0) process.stdout.write(`\n${formatRevokedTable(revoked)}`);
  }
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
  return { model: buildModel(validation.config, doc.fileName), config: validation.config, doc, secretsDir: args.secrets ?? defaultSecretsDir(args.config) };
}

async function runPlan(args: PlanArgs): Promise<number> {
  const { formatPlan, planMembership } = await import('./plan.js');
  const { displayFile, identityDiagnostics } = await import('./build.js');
  const { compareIdentity, previousIdentity } = await import('./identity.js');
  const { model, config, doc } = await compileModelOnly(args);
  const { inspectOutput, readOutputFile } = await import('./write.js');
  const existing = await inspectOutput(args.out);
  if (!existing.manifest) {
    say(`etcd-gen: ${displayFile(path.resolve(args.out))} holds no earlier build: nothing to compare; a new cluster starts with etcd-gen build`);
    return EXIT_OK;
  }
  // What the deployed cluster is, against cluster.yaml: a change a build would refuse is refused here too.
  const identity = compareIdentity(await previousIdentity(existing.manifest, (p) => readOutputFile(args.out, p)), model, config, { wholePath: true });
  if (identity.problems.length > 0) throw new InputError(identityDiagnostics(identity.problems, doc));
  const plan = planMembership(existing.manifest.members ?? [], model);
  if (output.json) printJson({ ok: true, cluster: model.name, membershipSteps: plan.steps, rolloutSteps: identity.steps, releaseSteps: identity.releaseSteps, warnings: plan.warnings });
  else process.stdout.write(formatPlan(plan, model.name, identity.steps));
  return plan.steps.length > 0 || identity.steps.length > 0 ? EXIT_ATTENTION : EXIT_OK;
}

async function runSchema(): Promise<number> {
  const { clusterSchema } = await import('./resources.js');
  printJson(clusterSchema());
  return EXIT_OK;
}

async function runExplain(args: ExplainArgs): Promise<number> {
  const { clusterSchema } = await import('./resources.js');
  const { fieldDocs, findField, formatField } = await import('./explain.js');
  const docs = fieldDocs(clusterSchema());
  if (args.field === undefined) {
    if (args.json) printJson(docs);
    else process.stdout.write(`${docs.map(formatField).join('\n\n')}\n`);
    return EXIT_OK;
  }
  const doc = findField(docs, args.field);
  if (!doc) {
    const { closest } = await import('./messages.js');
    const guess = closest(args.field, docs.map((d) => d.path));
    throw new UsageError(`no field "${args.field}" in cluster.yaml${guess ? `: did you mean ${guess}?` : ''} (etcd-gen explain lists every field)`);
  }
  if (args.json) printJson(doc);
  else process.stdout.write(`${formatField(doc)}\n`);
  return EXIT_OK;
}

async function ask(question: string, fallback: string): Promise<string> {
  const readline = await import('node:readline/promises');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question}${fallback ? ` [${fallback}]` : ''}: `)).trim();
    return answer || fallback;
  } finally {
    rl.close();
  }
}

async function runInit(args: InitArgs): Promise<number> {
  const { existsSync } = await import('node:fs');
  const { writeFile } = await import('node:fs/promises');
  const { STARTER_DEFAULTS, parseNodeFlag, starterCluster } = await import('./init.js');
  if (existsSync(args.file) && !args.force) throw new UsageError(`${args.file} exists: choose another file, or pass --force to replace it`);
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true && args.node === undefined && !args.json;
  let answers = {
    name: args.name ?? STARTER_DEFAULTS.name,
    version: args.etcdVersion ?? STARTER_DEFAULTS.version,
    nodes: args.node ? args.node.map(parseNodeFlag) : STARTER_DEFAULTS.nodes,
  };
  if (interactive) {
    const name = args.name ?? (await ask('cluster name (a DNS label)', answers.name));
    const version = args.etcdVersion ?? (await ask('etcd version', answers.version));
    const nodes = [];
    process.stderr.write('members, one per line as: name host [ip]; an empty line when done\n');
    for (;;) {
      const line = await ask(`member ${nodes.length + 1}`, '');
      if (!line) break;
      const [n, host, ip] = line.split(/\s+/);
      nodes.push({ name: n ?? '', host: host ?? '', ...(ip ? { ip } : {}) });
    }
    answers = { name, version, nodes: nodes.length > 0 ? nodes : answers.nodes };
  }
  const text = starterCluster(answers, args.file);
  await writeFile(args.file, text, { flag: args.force ? 'w' : 'wx' });
  if (args.json) printJson({ ok: true, file: args.file });
  say(`etcd-gen: wrote ${args.file}; next: etcd-gen build ${args.file} -o out`);
  return EXIT_OK;
}

async function runImport(args: ImportArgs): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const { importProcedure, readProcedureDir, writeImport } = await import('./import.js');
  const files = await readProcedureDir(args.envDir);
  const memberList = args.memberList === undefined ? undefined : { file: args.memberList, text: await readFile(args.memberList, 'utf8') };
  const result = importProcedure(files, {
    etcdVersion: args.etcdVersion,
    configFile: args.out,
    ...(args.name !== undefined ? { name: args.name } : {}),
    ...(args.dataDir !== undefined ? { dataDir: args.dataDir } : {}),
    ...(memberList ? { memberList } : {}),
  });
  const secrets = args.secrets ?? path.join(path.dirname(args.out), 'secrets');
  await writeImport(result, args.out, secrets);
  printDiagnostics(result.warnings);
  if (args.json) printJson({ ok: true, file: args.out, secrets, notes: result.notes, sharedCertificates: result.sharedCerts, diagnostics: result.warnings.map(diagnosticJson) });
  say(`etcd-gen: wrote ${args.out} and the CA into ${secrets}/`);
  for (const note of result.notes) say(`  - ${note}`);
  say(`next: etcd-gen build ${args.out} -o out, then out/runbooks/takeover.sh: it moves the members one at a time, each only with the others healthy, from etcd3 to etcd-gen's etcd.service on the same data (out/README.md)`);
  return EXIT_OK;
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
          .example('$0 build cluster.yaml -o out --revoke env/etcd-client.pem', "Revoke the manual procedure's shared client certificate") as unknown as Argv<BuildArgs>,
      async (args) => {
        process.exitCode = await runBuild(args);
      },
    )
    .command<CertsArgs>(
      'certs <config>',
      'List every certificate with its names and expiry; exit 1 when any needs renewal',
      (y) =>
        withCommon(y)
          .example('$0 certs cluster.yaml', 'A table of certificates and days left')
          .example('$0 certs cluster.yaml --json | jq .certificates[].daysLeft', 'For cron and CI') as unknown as Argv<CertsArgs>,
      async (args) => {
        process.exitCode = await runCerts(args);
      },
    )
    .command<PlanArgs>(
      'plan <config>',
      'Print the safe, ordered steps from the membership and etcd release of the existing output to those in cluster.yaml',
      (y) =>
        withCommon(y)
          .option('out', { alias: 'o', type: 'string', default: 'out', describe: 'The existing output directory to compare with' })
          .example('$0 plan cluster.yaml -o out', 'What to run, in order, after adding or removing nodes or changing etcd.version') as unknown as Argv<PlanArgs>,
      async (args) => {
        process.exitCode = await runPlan(args);
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
        process.exitCode = await runImport(args as unknown as ImportArgs);
      },
    )
    .command(
      'init [file]',
      'Write a commented starter cluster.yaml that builds as is (asks on a terminal when no --node is given)',
      (y) =>
        y
          .positional('file', { type: 'string', default: 'cluster.yaml', describe: 'Where to write it' })
          .option('name', { type: 'string', describe: 'Cluster name (a DNS label)' })
          .option('etcd-version', { type: 'string', describe: 'etcd version, 3.4.x to 3.7.x (default: the newest etcd-gen knows)' })
          .option('node', { type: 'array', string: true, describe: 'A member as name=host or name=host,ip (repeat it)' })
          .option('force', { type: 'boolean', default: false, describe: 'Replace an existing file' })
          .example('$0 init', 'Answer a few questions')
          .example('$0 init cluster.yaml --name k8s1 --node etcd1=10.0.0.11 --node etcd2=10.0.0.12 --node etcd3=10.0.0.13', 'Without questions'),
      async (args) => {
        process.exitCode = await runInit(args as unknown as InitArgs);
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
        process.exitCode = await runExplain(args as unknown as ExplainArgs);
      },
    )
    .command(
      'schema',
      'Print the JSON Schema of cluster.yaml (for editors and CI)',
      (y) => y.example('$0 schema > cluster.schema.json', 'Keep a copy for an editor or a CI check'),
      async () => {
        process.exitCode = await runSchema();
      },
    )
    .completion('completion', 'Print a bash/zsh completion script: etcd-gen completion >> ~/.bashrc')
    .option('quiet', { alias: 'q', type: 'boolean', default: false, global: true, describe: 'Print only problems and what a command was asked for' })
    .option('json', { type: 'boolean', default: false, global: true, describe: 'Machine-readable results and diagnostics on stdout' })
    .middleware((args) => {
      output.quiet = Boolean(args.quiet);
      output.json = Boolean(args.json);
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
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, error) => {
      if (error) throw error;
      printFailure('usage', message, "Run 'etcd-gen --help' for usage.");
      process.exit(EXIT_INPUT);
    });
}

async function main(): Promise<void> {
  try {
    await cli(hideBin(process.argv)).parseAsync();
  } catch (err) {
    if (err instanceof InputError) {
      if (output.json) {
        printJson({ ok: false, diagnostics: err.diagnostics.map(diagnosticJson) });
        process.exitCode = EXIT_INPUT;
        return;
      }
      printDiagnostics(err.diagnostics);
      const errors = err.diagnostics.filter((d) => d.severity === 'error').length;
      process.stderr.write(`etcd-gen: ${errors} error${errors === 1 ? '' : 's'}; nothing was written\n`);
      process.exitCode = EXIT_INPUT;
      return;
    }
    if (err instanceof UsageError) {
      printFailure('usage', err.message);
      process.exitCode = EXIT_INPUT;
      return;
    }
    const e = err as NodeJS.ErrnoException;
    // A path that cannot be read or written is the user's to fix (exit 2), not a bug.
    if (e.code && e.syscall) {
      printFailure('io', `cannot ${e.syscall} ${e.path ?? ''}: ${e.code}; check the path and its permissions; nothing was written`.replace(' :', ':'));
      process.exitCode = EXIT_INPUT;
    } else {
      printFailure('internal', `internal error: ${e.message ?? String(err)}`, 'This is a bug in etcd-gen; set ETCD_GEN_DEBUG=1 to see where it happened.');
      process.exitCode = EXIT_INTERNAL;
    }
    if (process.env.ETCD_GEN_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
  }
}

await main();
