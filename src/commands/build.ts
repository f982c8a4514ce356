/**
 * `etcd-gen build <config> -o <out>`: run the pipeline (src/pipeline.ts) and write the output, or with
 * --check compare it with what is on disk. Prints what was issued, rotated, revoked and written, and the
 * steps the running cluster needs (membership, rollout, release).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../diagnostics.js';
import { rotationMessages } from '../messages.js';
import { formatPlan, planMembership } from '../model/membership.js';
import { build, check, displayFile, type BuildOptions, type Compiled } from '../pipeline.js';
import { EXIT_ATTENTION, EXIT_OK, diagnosticJson, type Console } from './console.js';

export interface BuildArgs {
  config: string;
  secrets: string | undefined;
  out: string;
  check: boolean;
  renew: string[] | undefined;
  identity: string | undefined;
  rotateCa: boolean;
  revoke: string[] | undefined;
}

function renewOption(renew: string[] | undefined): readonly string[] | 'all' {
  if (renew === undefined) return [];
  return renew.length === 0 || renew.includes('all') ? 'all' : renew;
}

/** The age identity that opens encrypted secrets: --identity FILE, else ETCD_GEN_AGE_IDENTITY (the key itself). */
async function identityOption(file: string | undefined, env: Console['io']['env']): Promise<string | undefined> {
  if (file !== undefined) {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the age identity ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  return env.ETCD_GEN_AGE_IDENTITY || undefined;
}

function printPkiActions(con: Console, result: Compiled, verb: (action: string) => string): void {
  for (const pair of result.pki.pairs.values()) {
    if (pair.action === 'reused') continue;
    con.say(`etcd-gen: ${verb(pair.action)} ${pair.spec.id}${pair.reason ? `: ${pair.reason}` : ''}`);
  }
}

/** Exit 0 when built (or up to date with --check); 1 when --check finds the output stale. */
export async function runBuild(args: BuildArgs, con: Console): Promise<number> {
  const ageIdentity = await identityOption(args.identity, con.io.env);
  const options: BuildOptions = {
    configFile: args.config,
    outDir: args.out,
    renew: renewOption(args.renew),
    ...(args.secrets !== undefined ? { secretsDir: args.secrets } : {}),
    ...(ageIdentity !== undefined ? { ageIdentity } : {}),
    rotateCa: args.rotateCa,
    ...(args.revoke !== undefined ? { revoke: args.revoke } : {}),
    ...(con.showProgress() ? { onKey: (done: number, total: number) => con.keyProgress(done, total) } : {}),
  };
  return args.check ? runCheck(args, options, con) : runWrite(args, options, con);
}

async function runCheck(args: BuildArgs, options: BuildOptions, con: Console): Promise<number> {
  const result = await check(options);
  if (con.json) {
    con.printJson({ ok: result.upToDate, upToDate: result.upToDate, ...result.drift, diagnostics: result.diagnostics.map(diagnosticJson) });
    return result.upToDate ? EXIT_OK : EXIT_ATTENTION;
  }
  con.printDiagnostics(result.diagnostics);
  printPkiActions(con, result, (action) => `would have ${action === 'issued' ? 'issued' : 'reissued'}`);
  const out = displayFile(path.resolve(args.out));
  if (result.upToDate) {
    con.say(`etcd-gen: ${out} is up to date with ${displayFile(args.config)}`);
    return EXIT_OK;
  }
  const { added, removed, changed } = result.drift;
  con.say(`etcd-gen: ${out} is out of date; run etcd-gen build (${added.length} to add, ${changed.length} to change, ${removed.length} to remove):`);
  // The list is the answer of --check: shown even with --quiet.
  for (const f of added) con.tell(`  added    ${f}`);
  for (const f of changed) con.tell(`  changed  ${f.path}${f.what === 'mode' ? ' (mode only)' : ''}`);
  for (const f of removed) con.tell(`  removed  ${f}`);
  return EXIT_ATTENTION;
}

async function runWrite(args: BuildArgs, options: BuildOptions, con: Console): Promise<number> {
  const result = await build(options);
  // A build that changes the membership the output was built for says what the running cluster needs.
  const previousMembers = result.previous.manifest?.members;
  const plan = previousMembers ? planMembership(previousMembers, result.model) : null;
  const steps = plan !== null && plan.steps.length > 0 ? plan : null;
  if (con.json) {
    con.printJson({
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
    con.say(`etcd-gen: finished the build that stopped at ${result.interrupted.at} while putting its files in place (${result.interrupted.renamed} left to rename)`);
  }
  con.printDiagnostics(result.diagnostics);
  printPkiActions(con, result, (action) => action);
  const rotation = result.pki.rotation;
  if (rotation !== null) con.say(`etcd-gen: ${rotationMessages[rotation]}`);
  for (const t of result.crl?.added ?? []) con.say(`etcd-gen: revoked ${t.from} (serial ${t.serial})`);
  if (result.crl?.changed) {
    con.say(
      `etcd-gen: the CA's revocation list now has ${result.crl.entries.length} entr${result.crl.entries.length === 1 ? 'y' : 'ies'}; install it on every member with runbooks/rotate-certs.sh (the first list also changes etcd.conf, so each member restarts in turn)`,
    );
  }
  const caAction = result.pki.pairs.get('ca')?.action;
  if (caAction === 'issued' || caAction === 'reissued') {
    con.say(`etcd-gen: the new CA key is in ${displayFile(result.secretsDir)}: back it up; every later build of this cluster needs it`);
  }
  const { written, unchanged, removed } = result.report;
  const m = result.model;
  con.say(
    `etcd-gen: cluster ${m.name} (${m.members.length} member${m.members.length === 1 ? '' : 's'}, etcd ${m.etcd.text}) -> ${displayFile(path.resolve(args.out))}: ` +
      `${written.length} written, ${unchanged.length} unchanged, ${removed.length} removed`,
  );
  if (steps !== null) {
    con.say("etcd-gen: the membership changed: deploy the new members' files, then carry out these steps on the running cluster:");
    con.io.stderr.write(formatPlan(steps, m.name, result.rolloutSteps));
  } else if (plan !== null && result.rolloutSteps.length > 0) {
    con.say('etcd-gen: the running cluster needs these steps:');
    con.io.stderr.write(formatPlan(plan, m.name, result.rolloutSteps));
  }
  return EXIT_OK;
}
