/**
 * `build --revoke`: what to revoke, and the CA's next revocation list. A request names a certificate by
 *
 * - its id in the secrets directory (`nodes/etcd1/peer`, as `etcd-gen certs` lists them): its current
 *   serial is revoked and the certificate is reissued in the same build;
 * - a PEM certificate file (the manual procedure's shared `etcd-client.pem`): it must be signed by this
 *   cluster's CA;
 * - its serial in hex (`0a:1b:…` or `0a1b…`).
 *
 * A serial still in use by a certificate of this build is refused: revoke it by its id to reissue it.
 * The list only grows (a revocation is never undone); the stored CRL is reused byte for byte until it does.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileDiagnostic, InputError, UsageError } from '../diagnostics.js';
import type { CertPair, StoredPair } from './index.js';
import { keyTypeOf, normalizeSerial as normalize, parseCert } from './inspect.js';
import { pkiMessages } from '../messages.js';
import { CA_ID } from './profiles.js';

export interface RevokeTarget {
  serial: string;
  /** How the user named it, for messages and reports. */
  from: string;
}

/** The ids among the requests: these are reissued in the same build. */
export function idsToRenew(requests: readonly string[], knownIds: readonly string[]): string[] {
  return requests.filter((r) => knownIds.includes(r) && r !== CA_ID);
}


/**
 * Serials to revoke, read before the PKI stage runs (so an id's serial is the one being replaced).
 * Throws UsageError for a request that names nothing, InputError for a file that is no certificate of
 * this CA.
 */
export async function resolveRevocations(
  requests: readonly string[],
  stored: ReadonlyMap<string, StoredPair>,
  knownIds: readonly string[],
): Promise<RevokeTarget[]> {
  const caPem = stored.get(CA_ID)?.certPem ?? null;
  const targets: RevokeTarget[] = [];
  for (const request of requests) {
    if (request === CA_ID) throw new UsageError(pkiMessages.revokeCa);
    if (knownIds.includes(request)) {
      const pem = stored.get(request)?.certPem ?? null;
      if (pem === null) throw new UsageError(pkiMessages.revokeNothingStored(request));
      targets.push({ serial: normalize(parseCert(pem).serialNumber) ?? '', from: request });
      continue;
    }
    let text: string | null = null;
    try {
      text = await readFile(request, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== null) {
      let cert;
      try {
        cert = parseCert(text);
      } catch {
        throw new InputError([fileDiagnostic(request, pkiMessages.revokeNotACert)]);
      }
      if (caPem === null || keyTypeOf(parseCert(caPem)) === null || !cert.verify(parseCert(caPem).publicKey)) {
        throw new InputError([fileDiagnostic(request, pkiMessages.revokeOtherCa)]);
      }
      targets.push({ serial: normalize(cert.serialNumber) ?? '', from: request });
      continue;
    }
    const serial = normalize(request);
    if (serial === null) throw new UsageError(pkiMessages.revokeUnknown(request, knownIds));
    targets.push({ serial, from: request });
  }
  return targets;
}

/** Refuses to revoke a serial a certificate of this build still has (it would cut off a member or client). */
export function checkNotInUse(targets: readonly RevokeTarget[], pairs: ReadonlyMap<string, CertPair>): void {
  for (const t of targets) {
    for (const p of pairs.values()) {
      if (normalize(p.serialNumber) === t.serial) throw new UsageError(pkiMessages.revokeInUse(t.from, p.spec.id));
    }
  }
}

/** What etcd-gen import leaves in the secrets directory: the manual procedure's shared certificates. */
export const PROCEDURE_RECORD = 'procedure-certs.json';

export interface ProcedureRecord {
  sharedCertificates: { file: string; serial: string; subject: string }[];
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return null;
  }
}

/**
 * Refuses to revoke one of the procedure's shared certificates (as import recorded them) before
 * takeover.sh has recorded that every member moved off it (`takeover.moved`, from the previous build's
 * takeover.json; null when there is none or it is unreadable). A build cannot see the members; the runbook
 * can, and it checks again, live, before it installs a revocation list (refuse_revoked_in_use).
 */
export async function checkMovedOff(
  targets: readonly RevokeTarget[],
  secretsDir: string,
  takeover: { file: string; moved: readonly string[] | null },
  outDir: string,
  members: readonly string[],
  shown: (file: string) => string,
): Promise<void> {
  if (targets.length === 0) return;
  const recordFile = path.join(secretsDir, PROCEDURE_RECORD);
  const record = await readJson(recordFile);
  if (record === undefined) return;
  const shared = (record as Partial<ProcedureRecord> | null)?.sharedCertificates;
  if (!Array.isArray(shared)) throw new InputError([fileDiagnostic(shown(recordFile), pkiMessages.procedureRecordUnreadable)]);
  const sharedSerials = new Set(shared.map((c) => normalize(String(c.serial))));
  const hit = targets.find((t) => sharedSerials.has(t.serial));
  if (hit === undefined) return;
  const movedNames = takeover.moved;
  const notMoved = movedNames === null ? null : members.filter((m) => !movedNames.includes(m));
  if (notMoved !== null && notMoved.length === 0) return;
  throw new UsageError(pkiMessages.revokeBeforeMove(hit.from, shown(takeover.file), notMoved, shown(path.join(outDir, 'runbooks', 'takeover.sh'))));
}

export interface CrlState {
  file: string;
  pem: string;
  changed: boolean;
  entries: { serial: string; revokedAt: Date }[];
  /** What this build revoked, as the user named it. */
  added: RevokeTarget[];
}

/**
 * The CA's revocation list for this build: the stored one (PEM, `storedPem`, shown as `shownFile` in a
 * problem) reused byte for byte, or a new one signed by the CA (`ca`, the pair the PKI stage gave) when
 * this build revokes a serial it does not list yet, its number one higher (RFC 5280 5.2.3).
 */
export async function nextCrl(shownFile: string, storedPem: string | null, targets: readonly RevokeTarget[], ca: { certPem: string; keyPem: string } | undefined, now: Date): Promise<Omit<CrlState, 'file'>> {
  // The CRL code loads @peculiar/x509: only builds that revoke pay for it.
  const { readCrl, signCrl } = await import('./crl.js');
  let existing = null;
  if (storedPem !== null) {
    try {
      existing = readCrl(storedPem);
    } catch {
      throw new InputError([fileDiagnostic(shownFile, pkiMessages.crlUnreadable)]);
    }
  }
  const listed = new Set(existing?.entries.map((e) => e.serial) ?? []);
  const added = targets.filter((t, i) => !listed.has(t.serial) && targets.findIndex((u) => u.serial === t.serial) === i);
  if (existing !== null && added.length === 0) return { pem: existing.pem, changed: false, entries: existing.entries, added: [] };
  if (!ca) throw new Error('no CA pair');
  const keyType = keyTypeOf(parseCert(ca.certPem));
  if (keyType === null) throw new Error('the CA has a key type etcd-gen cannot sign with');
  const entries = [...(existing?.entries ?? []), ...added.map((t) => ({ serial: t.serial, revokedAt: now }))];
  const pem = await signCrl({ certPem: ca.certPem, keyPem: ca.keyPem, keyType }, entries, (existing?.number ?? 0) + 1, now);
  return { pem, changed: true, entries, added };
}
