/**
 * The pipeline, in the order it runs: load -> validate -> model (src/input/, src/model/), then the previous
 * build is read (src/output/previous.ts: the second input), the secrets are read (src/pki/store.ts), pki ->
 * render -> seal -> manifest, and at last write (src/output/write.ts, one transaction with the new secrets).
 * Disk I/O happens only at those edges; every stage between takes plain data and gives plain data.
 * `compile` runs it all in memory; `build` then writes, and `check` compares with what is on disk.
 */
import path from 'node:path';
import { InputError, UsageError, type Diagnostic } from './diagnostics.js';
import type { ReleaseStep } from './etcd/upgrade.js';
import type { ClusterConfig } from './input/config.js';
import { loadClusterFile, locate, type LoadedDocument } from './input/load.js';
import { validateCluster } from './input/validate.js';
import { buildModel, type ModelSecrets } from './model/build.js';
import { compareIdentity, type IdentityProblem } from './model/identity.js';
import type { ClusterModel } from './model/types.js';
import { runPki, type PkiResult, type StoredPair } from './pki/index.js';
import { CA_NEXT_ID, CA_PREVIOUS_ID, certSpecs } from './pki/profiles.js';
import { checkMovedOff, checkNotInUse, idsToRenew, nextCrl, resolveRevocations, type CrlState } from './pki/revoke.js';
import { COMMIT_JOURNAL, readIfPresent, readSecrets, secretFile, secretsDirWarnings, stageSecrets } from './pki/store.js';
import { loadTemplates, renderOutput } from './render/render.js';
import { buildManifest, OUTPUT_CA, type Manifest, type OutputFile } from './output/files.js';
import { readPreviousBuild, TAKEOVER_RECORD, type PreviousBuild } from './output/previous.js';
import { sealPrivateKeys } from './output/seal.js';
import { completeInterruptedCommit, FileTransaction, journalPending } from './output/transaction.js';
import { compareOutput, stageOutput, type Drift, type WriteReport } from './output/write.js';
import { defaultSecretsDir, displayFile } from './paths.js';
import { packageVersion } from './resources.js';

export interface BuildOptions {
  configFile: string;
  outDir: string;
  /** Default: `secrets/` beside the config file. */
  secretsDir?: string;
  /** The clock certificates are issued by (tests set it). */
  now?: Date;
  /** Leaf certificates to reissue although they still fit: ids such as `nodes/etcd1/server`, or 'all'. */
  renew?: readonly string[] | 'all';
  /** The age identity (the AGE-SECRET-KEY-… text) that opens an encrypted secrets directory (not the cluster identity of src/model/identity.ts). */
  ageIdentity?: string;
  /** Take the CA rotation one step further (src/pki/index.ts RotationStep). */
  rotateCa?: boolean;
  /** Certificates to revoke: ids, PEM certificate files, or hex serials (src/pki/revoke.ts). */
  revoke?: readonly string[];
  /** Progress of key generation (the CLI shows it on a terminal). */
  onKey?: (done: number, total: number) => void;
}

export interface Compiled {
  model: ClusterModel;
  /** Warnings: a build with errors throws InputError instead. */
  diagnostics: Diagnostic[];
  pki: PkiResult;
  files: OutputFile[];
  manifest: Manifest;
  /** The previous build, as read from the output directory after the model and before the PKI (src/output/previous.ts). */
  previous: PreviousBuild;
  secretsDir: string;
  stored: ReadonlyMap<string, StoredPair>;
  /** The CA's revocation list, once anything is revoked: `changed` when this build signed a new one. */
  crl: CrlState | null;
  /**
   * What the running cluster needs besides membership changes, in order, for people: changes of its
   * identity that are rolled out (src/model/identity.ts), and members whose etcd.conf changed.
   */
  rolloutSteps: string[];
  /** The etcd release move this build is a step of (src/etcd/upgrade.ts), as data; empty when the release stays. */
  releaseSteps: ReleaseStep[];
}

/** The signed CRL in the secrets directory (PEM; members get its DER form). */
export const CRL_FILE = 'ca.crl';


export interface BuildResult extends Compiled {
  secretsWritten: string[];
  report: WriteReport;
  /** A build that died among its renames, finished before this one began. */
  interrupted: { at: string; renamed: number } | null;
}

// The two path rules every command shares live in a leaf, so a command that needs no stage (status)
// does not load them all.
export { defaultSecretsDir, displayFile } from './paths.js';

const secretsDirOf = (options: BuildOptions): string => options.secretsDir ?? defaultSecretsDir(options.configFile);
/** Where a build's commit journal is: with the secrets it must never leave half written. */
const journalOf = (options: BuildOptions): string => path.join(secretsDirOf(options), COMMIT_JOURNAL);

export interface LoadedModel {
  doc: LoadedDocument;
  config: ClusterConfig;
  model: ClusterModel;
  /** Warnings of validation: a config with errors throws InputError instead. */
  diagnostics: Diagnostic[];
}

/**
 * The first three stages: load -> validate -> model. Throws InputError (exit 2) with every problem of the
 * file at its line; `secrets` is what the model needs from the secrets directory (src/model/build.ts).
 */
export async function loadModel(configFile: string, secrets: ModelSecrets = { crl: false }): Promise<LoadedModel> {
  const doc = await loadClusterFile(configFile);
  const validation = validateCluster(doc);
  if (!validation.config) throw new InputError(validation.diagnostics);
  return { doc, config: validation.config, model: buildModel(validation.config, doc.fileName, secrets), diagnostics: validation.diagnostics };
}

/**
 * Everything a build produces, in memory. Reads cluster.yaml, the secrets directory (ca.crl, then the pairs),
 * the previous build, the files --revoke names, and the package's templates; writes nothing.
 */
export async function compile(options: BuildOptions): Promise<Compiled> {
  const secretsDir = secretsDirOf(options);
  const crlFile = path.join(secretsDir, CRL_FILE);
  const storedCrl = await readIfPresent(crlFile);
  const revoke = options.revoke ?? [];
  const { doc, config, model, diagnostics } = await loadModel(options.configFile, { crl: storedCrl !== null || revoke.length > 0 });

  const previous = await readPreviousBuild(options.outDir);
  // Before anything is issued: a change the running cluster cannot roll out is refused here.
  const identitySteps: string[] = [];
  const releaseSteps: ReleaseStep[] = [];
  if (previous.identity) {
    const comparison = compareIdentity(previous.identity, model, config);
    if (comparison.problems.length > 0) throw new InputError(identityDiagnostics(comparison.problems, doc));
    identitySteps.push(...comparison.steps);
    releaseSteps.push(...comparison.releaseSteps);
  }
  const knownIds = certSpecs(model).map((s) => s.id);
  const stored = await readSecrets(secretsDir, [...knownIds, CA_NEXT_ID, CA_PREVIOUS_ID], options.ageIdentity ?? null);
  const targets = await resolveRevocations(revoke, stored, knownIds);
  const takeover = { file: path.join(options.outDir, TAKEOVER_RECORD), moved: typeof previous.takeover === 'object' ? previous.takeover.moved : null };
  await checkMovedOff(targets, secretsDir, takeover, options.outDir, model.members.map((m) => m.name), displayFile);
  const renewIds = idsToRenew(revoke, knownIds);
  const renew = options.renew === 'all' ? 'all' : [...new Set([...(options.renew ?? []), ...renewIds])];
  const now = options.now ?? new Date();
  const pki = await runPki({
    model,
    stored,
    secretPath: (id, ext) => displayFile(secretFile(secretsDir, id, ext)),
    previousCaPem: previous.caPem,
    previousCaPath: displayFile(path.join(options.outDir, OUTPUT_CA)),
    now,
    renew,
    rotateCa: options.rotateCa ?? false,
    ...(options.onKey ? { onKey: options.onKey } : {}),
  });
  checkNotInUse(targets, pki.pairs);
  const crl = storedCrl !== null || targets.length > 0 ? await nextCrl(displayFile(crlFile), storedCrl, targets, pki.pairs.get('ca'), now) : null;
  const crlBase64 = crl === null ? null : (await import('./pki/crl.js')).crlDer(crl.pem).toString('base64');
  const rendered = renderOutput(model, pki.pairs, pki.trustBundle, loadTemplates(), crlBase64);
  const files = await sealPrivateKeys(rendered, model.age?.recipients ?? null, previous);
  const manifest = buildManifest(files, model, packageVersion());
  const secretsWarnings = await secretsDirWarnings(secretsDir);
  // upgrade.sh installs each member's etcd.conf with the new release: no rotate-certs.sh step of its own.
  const rolloutSteps = [...identitySteps, ...(releaseSteps.length > 0 ? [] : settingsSteps(previous.manifest, manifest))];
  return { model, diagnostics: [...diagnostics, ...secretsWarnings, ...pki.diagnostics], pki, files, manifest, previous, secretsDir, stored, crl: crl && { ...crl, file: crlFile }, rolloutSteps, releaseSteps };
}

/** Refused identity changes as diagnostics at the field to change back or pin. */
export function identityDiagnostics(problems: readonly IdentityProblem[], doc: LoadedDocument): Diagnostic[] {
  return problems.map((p) => ({ severity: 'error', file: doc.file, pointer: p.pointer, position: locate(doc, p.pointer), message: p.message }));
}

/**
 * Members of the previous build whose etcd.conf this build changes: rotate-certs.sh installs it, and
 * restarts a member whose running settings differ from it (etcd reads its settings only at start).
 */
function settingsSteps(previous: Manifest | null, next: Manifest): string[] {
  if (previous === null) return [];
  const before = new Map(previous.files.filter((f) => f.role === 'member-config').map((f) => [f.path, f.sha256]));
  const changed = next.files
    .filter((f) => f.role === 'member-config' && before.has(f.path) && before.get(f.path) !== f.sha256)
    .map((f) => f.path.split('/')[1] ?? f.path);
  if (changed.length === 0) return [];
  return [
    `etcd.conf changed on ${changed.join(', ')}: runbooks/rotate-certs.sh installs it with the certificates and restarts, one at a time, each member whose running settings differ from it`,
  ];
}


/** Compiles, then writes the new secrets and the output in one transaction: all of it, or nothing. */
export async function build(options: BuildOptions): Promise<BuildResult> {
  // First finish a build that died halfway through putting its files in place: until then the secrets
  // may hold a new key beside an old certificate.
  const journal = journalOf(options);
  const interrupted = await completeInterruptedCommit(journal);
  const compiled = await compile(options);
  const tx = new FileTransaction();
  const secretsWritten = await stageSecrets(
    tx,
    compiled.secretsDir,
    compiled.pki.pairs.values(),
    compiled.model.age?.encryptSecrets ? compiled.model.age.recipients : null,
    compiled.stored,
    compiled.pki.secretOps,
  );
  // A new revocation list is kept with the secrets: the next build reuses it byte for byte.
  if (compiled.crl?.changed) {
    tx.write(compiled.crl.file, compiled.crl.pem, 0o644, { dirMode: 0o700, durable: true });
    secretsWritten.push(compiled.crl.file);
  }
  const report = await stageOutput(tx, options.outDir, compiled.files, compiled.manifest, compiled.previous.manifest);
  await tx.commit(journal);
  return { ...compiled, secretsWritten, report, interrupted };
}

export interface CheckResult extends Compiled {
  drift: Drift;
  /** True when the output on disk is exactly what a build would write. */
  upToDate: boolean;
}

/** Compiles and compares with the output on disk; writes nothing, not even new secrets. */
export async function check(options: BuildOptions): Promise<CheckResult> {
  const journal = journalOf(options);
  if (await journalPending(journal)) {
    throw new UsageError(`a build is putting its files in place, or died doing so (${displayFile(journal)}): wait for it, or run etcd-gen build to finish it`);
  }
  const compiled = await compile(options);
  const drift = await compareOutput(options.outDir, compiled.files, compiled.manifest, compiled.previous.manifest);
  const upToDate = drift.added.length === 0 && drift.removed.length === 0 && drift.changed.length === 0;
  return { ...compiled, drift, upToDate };
}
