/**
 * Stage 6, pki (ARCHITECTURE.md): decide for every certificate whether the stored one still says what it must (reuse it),
 * or a new one is needed (issue it), then generate keys and sign. No disk I/O: the secrets come in as
 * data (pki/store.ts reads and writes them) and go out as data. Reading uses Node's crypto (inspect.ts);
 * the x509 library (issue.ts) is loaded only when something is issued.
 *
 * The CA is never replaced here: a missing half, a key that does not match, an expired CA, or a CA that
 * the existing output does not trust all stop the build. Only the CA rotation (--rotate-ca) moves to a
 * new CA: in three deployable steps while the CA is valid, or, once it has expired, in one.
 */
import type { KeyType } from '../input/config.js';
import { fileDiagnostic, InputError, UsageError, type Diagnostic } from '../diagnostics.js';
import { ekuOids, EKU_OID, fingerprint, keyTypeOf, notAfter, notBefore, parseCert, readPrivateKey, sanList, type X509Certificate } from './inspect.js';
import { pkiMessages } from '../messages.js';
import { CA_ID, CA_NEXT_ID, CA_PREVIOUS_ID, certSpecs, type CertSpec } from './profiles.js';
import { type ClusterModel } from '../model/types.js';

export { sanList };

export interface StoredPair {
  certPem: string | null;
  keyPem: string | null;
  /** The key is kept age-encrypted in the secrets directory. */
  keyEncrypted?: boolean;
}

export interface PkiInput {
  model: ClusterModel;
  /** What the secrets dir holds, by certificate id. */
  stored: ReadonlyMap<string, StoredPair>;
  /** How to name a stored file in messages, e.g. `secrets/ca.key`. */
  secretPath: (id: string, ext: 'crt' | 'key') => string;
  /** The CA certificates the existing output trusts (its ca.crt), if there is one. */
  previousCaPem: string | null;
  /** Where that previous CA certificate is, for messages. */
  previousCaPath: string;
  now: Date;
  /** Leaves to reissue although they still fit, by id, or 'all'. */
  renew: readonly string[] | 'all';
  /** Take the CA rotation one step further (see RotationStep). */
  rotateCa?: boolean;
  /** Called as each new key is generated (for progress on slow RSA keys). */
  onKey?: (done: number, total: number) => void;
}

/**
 * A CA rotation is three builds, each deployed to every member before the next:
 * 'trust' creates the next CA and trusts it beside the current one (leaves unchanged);
 * 'sign' makes the next CA the signing one and reissues every leaf, still trusting the old CA;
 * 'finish' stops trusting the old CA.
 * Once the CA has expired nothing it signed is valid and there is no trust left to carry over, so the
 * rotation is one step, 'replace': a new CA (or the next one, if a rotation was under way) signs every
 * leaf at once and is the only CA trusted. The cluster is down until every member has them.
 */
export type RotationStep = 'trust' | 'sign' | 'finish' | 'replace';

/** A change to the secrets directory beyond issuing pairs: the CA rotation's moves. */
export type SecretOp =
  | { kind: 'write'; id: string; ext: 'crt' | 'key'; contents: string; exclusive: boolean }
  | { kind: 'remove'; id: string; ext: 'crt' | 'key' };

export type PairAction = 'reused' | 'issued' | 'reissued';

export interface CertPair {
  spec: CertSpec;
  certPem: string;
  keyPem: string;
  action: PairAction;
  /** Why it was issued again; empty when reused or new. */
  reason: string;
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
  /** SHA-256 fingerprint of the certificate, hex with colons. */
  fingerprint: string;
}

export interface PkiResult {
  pairs: Map<string, CertPair>;
  /** PEM of every CA members must trust: the signing CA first, then the next or previous one during a rotation. */
  trustBundle: string;
  /** The rotation step this build took, if any. */
  rotation: RotationStep | null;
  secretOps: SecretOp[];
  diagnostics: Diagnostic[];
}

const DAY_MS = 86_400_000;
const BACKDATE_MS = 5 * 60_000;

/** A stored certificate with the key that belongs to it (checked). */
interface Parsed {
  cert: X509Certificate;
  certPem: string;
  keyPem: string;
}

/** What every phase of runPki shares: its input, where warnings go, and the reader of a stored pair. */
interface Phase {
  input: PkiInput;
  warn: (file: string, message: string) => void;
  /** A stored pair, checked: a certificate of a supported key type, and a private key that matches it. */
  parsePair: (id: string, certText: string, keyText: string) => Parsed;
}


/**
 * Stage 6, pki, in five phases: the stored CA checked (never replaced, only created when there never was
 * one), one step of a CA rotation (--rotate-ca), a decision per leaf (reuse, or reissue with a reason),
 * every key needed generated at once and signed, and the result in the profiles' order with the trust
 * bundle. Throws InputError for secrets that cannot be used (at the file), UsageError for a request that
 * cannot be carried out; nothing is written here (the secret operations are returned).
 */
export async function runPki(input: PkiInput): Promise<PkiResult> {
  const specs = certSpecs(input.model);
  const diagnostics: Diagnostic[] = [];
  const phase: Phase = {
    input,
    warn: (file, message) => diagnostics.push(fileDiagnostic(file, message, 'warning')),
    parsePair: (id, certText, keyText) => parseStoredPair(input, id, certText, keyText),
  };
  const caSpec = specs.find((s) => s.id === CA_ID);
  if (!caSpec) throw new Error('no CA profile');
  const stored = checkStoredCa(phase, caSpec);
  const rotated = await rotateCaStep(phase, caSpec, stored);
  const decisions = leafDecisions(phase, specs, rotated);
  const pairs = await issueNeeded(phase, caSpec, rotated, decisions);
  const ca = pairs.get(CA_ID);
  if (!ca) throw new Error('no CA pair');
  // Keep the order of the profiles, whatever order things were issued in.
  const ordered = new Map(specs.map((s) => [s.id, pairs.get(s.id) as CertPair]));
  for (const p of ordered.values()) {
    if (p.spec.isCa || p.action === 'reused') continue;
    if (p.notAfter.getTime() < input.now.getTime() + p.spec.days * DAY_MS - DAY_MS) phase.warn(input.secretPath(p.spec.id, 'crt'), pkiMessages.leafClampedToCa(p.notAfter));
  }
  // Oldest CA first: the trust and sign steps of a rotation trust the same two CAs, so they write the same
  // bytes, and rotate-certs.sh restarts members only when the set of trusted CAs really changed.
  const { previousCaPem, next } = rotated;
  const trustBundle = [...(previousCaPem !== null ? [previousCaPem] : []), ca.certPem, ...(next !== null ? [next.certPem] : [])].join('');
  return { pairs: ordered, trustBundle, rotation: rotated.rotation, secretOps: rotated.secretOps, diagnostics };
}

function parseStoredPair(input: PkiInput, id: string, certText: string, keyText: string): Parsed {
  const certPath = input.secretPath(id, 'crt');
  const keyPath = input.secretPath(id, 'key');
  let cert: X509Certificate;
  try {
    cert = parseCert(certText);
  } catch {
    throw new InputError([fileDiagnostic(certPath, pkiMessages.notACertificate)]);
  }
  if (keyTypeOf(cert) === null) throw new InputError([fileDiagnostic(certPath, pkiMessages.unsupportedKeyType)]);
  // PKCS#1 and SEC1 keys (cfssl's, openssl's) are carried on as PKCS#8, the form WebCrypto signs with.
  const read = readPrivateKey(keyText);
  if ('problem' in read) throw new InputError([fileDiagnostic(keyPath, read.problem === 'encrypted' ? pkiMessages.keyEncrypted : pkiMessages.notAKey(certPath))]);
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(read.key);
  } catch {
    matches = false;
  }
  if (!matches) throw new InputError([fileDiagnostic(keyPath, pkiMessages.keyMismatch(certPath))]);
  return { cert, certPem: certText, keyPem: read.pkcs8Pem };
}

/** Phase 1: the stored CA, reused; null when there never was one (a new PKI). Refuses what would replace one. */
function checkStoredCa(phase: Phase, caSpec: CertSpec): { ca: Parsed | null; caExpired: boolean } {
  const { input } = phase;
  const { now } = input;
  const caStored = input.stored.get(CA_ID) ?? { certPem: null, keyPem: null };
  const caCertPath = input.secretPath(CA_ID, 'crt');
  const caKeyPath = input.secretPath(CA_ID, 'key');
  if (caStored.certPem === null && caStored.keyPem === null) {
    if (input.previousCaPem !== null) throw new InputError([fileDiagnostic(caKeyPath, pkiMessages.caMissingButOutputHasOne(input.previousCaPath))]);
    return { ca: null, caExpired: false };
  }
  if (caStored.certPem === null || caStored.keyPem === null) {
    const missing = caStored.certPem === null ? caCertPath : caKeyPath;
    throw new InputError([fileDiagnostic(missing, pkiMessages.caHalfMissing(caCertPath, caKeyPath))]);
  }
  const ca = phase.parsePair(CA_ID, caStored.certPem, caStored.keyPem);
  if (!ca.cert.ca) throw new InputError([fileDiagnostic(caCertPath, pkiMessages.notACa)]);
  const caExpired = notAfter(ca.cert).getTime() <= now.getTime();
  if (caExpired && !input.rotateCa) throw new InputError([fileDiagnostic(caCertPath, pkiMessages.caExpired(notAfter(ca.cert)))]);
  if (input.previousCaPem !== null && !bundleIncludes(input.previousCaPem, caStored.certPem)) {
    throw new InputError([fileDiagnostic(caCertPath, pkiMessages.caDiffersFromOutput(input.previousCaPath))]);
  }
  const caType = keyTypeOf(ca.cert);
  if (caType !== caSpec.keyType) phase.warn(caCertPath, pkiMessages.caKeyTypeKept(caType ?? 'unknown', caSpec.keyType));
  const daysLeft = Math.floor((notAfter(ca.cert).getTime() - now.getTime()) / DAY_MS);
  if (!caExpired && daysLeft < input.model.tls.certDays) phase.warn(caCertPath, pkiMessages.caExpiresSoon(daysLeft, input.model.tls.certDays));
  return { ca, caExpired };
}

interface Rotated {
  /** The CA that signs this build's leaves; null until phase 4 creates the first one. */
  ca: Parsed | null;
  /** The next CA of a rotation in progress (trusted, not signing yet). */
  next: Parsed | null;
  /** The CA a rotation's sign step replaced, still trusted until the finish step. */
  previousCaPem: string | null;
  rotation: RotationStep | null;
  /** The expired CA a one-step replacement replaced. */
  replacedCa: Parsed | null;
  secretOps: SecretOp[];
}

/** Phase 2: one step of a CA rotation, when --rotate-ca asks for it; otherwise the rotation state as stored. */
async function rotateCaStep(phase: Phase, caSpec: CertSpec, stored: { ca: Parsed | null; caExpired: boolean }): Promise<Rotated> {
  const { input } = phase;
  const { now } = input;
  let { ca } = stored;
  const secretOps: SecretOp[] = [];
  const nextStored = input.stored.get(CA_NEXT_ID);
  let next: Parsed | null = null;
  if (nextStored?.certPem && nextStored.keyPem) {
    next = phase.parsePair(CA_NEXT_ID, nextStored.certPem, nextStored.keyPem);
  } else if (nextStored?.certPem || nextStored?.keyPem) {
    throw new InputError([fileDiagnostic(input.secretPath(CA_NEXT_ID, 'key'), pkiMessages.caHalfMissing(input.secretPath(CA_NEXT_ID, 'crt'), input.secretPath(CA_NEXT_ID, 'key')))]);
  }
  let previousCaPem = input.stored.get(CA_PREVIOUS_ID)?.certPem ?? null;
  let rotation: RotationStep | null = null;
  let replacedCa: Parsed | null = null;
  if (input.rotateCa) {
    if (ca === null) throw new UsageError(pkiMessages.nothingToRotate);
    rotation = stored.caExpired ? 'replace' : next !== null ? 'sign' : previousCaPem !== null ? 'finish' : 'trust';
    if (rotation === 'replace') {
      // The one-step replacement of an expired CA: below, the new CA is stored over it and signs every leaf.
      replacedCa = ca;
      ca = next !== null && notAfter(next.cert).getTime() > now.getTime() ? next : await createCaPair(caSpec, now);
      if (next !== null) secretOps.push({ kind: 'remove', id: CA_NEXT_ID, ext: 'key' }, { kind: 'remove', id: CA_NEXT_ID, ext: 'crt' });
      if (previousCaPem !== null) secretOps.push({ kind: 'remove', id: CA_PREVIOUS_ID, ext: 'crt' });
      next = null;
      previousCaPem = null;
    } else if (rotation === 'trust') {
      next = await createCaPair(caSpec, now);
      secretOps.push({ kind: 'write', id: CA_NEXT_ID, ext: 'key', contents: next.keyPem, exclusive: true });
      secretOps.push({ kind: 'write', id: CA_NEXT_ID, ext: 'crt', contents: next.certPem, exclusive: true });
    } else if (rotation === 'sign' && next !== null) {
      // The one deliberate replacement of a CA: the next CA, trusted everywhere since step 1, now signs.
      previousCaPem = ca.certPem;
      ca = next;
      next = null;
      secretOps.push({ kind: 'write', id: CA_PREVIOUS_ID, ext: 'crt', contents: previousCaPem, exclusive: false });
      secretOps.push({ kind: 'write', id: CA_ID, ext: 'key', contents: ca.keyPem, exclusive: false });
      secretOps.push({ kind: 'write', id: CA_ID, ext: 'crt', contents: ca.certPem, exclusive: false });
      secretOps.push({ kind: 'remove', id: CA_NEXT_ID, ext: 'key' }, { kind: 'remove', id: CA_NEXT_ID, ext: 'crt' });
    } else {
      previousCaPem = null;
      secretOps.push({ kind: 'remove', id: CA_PREVIOUS_ID, ext: 'crt' });
    }
  }
  return { ca, next, previousCaPem, rotation, replacedCa, secretOps };
}

interface LeafDecision {
  spec: CertSpec;
  reuse: Parsed | null;
  action: PairAction;
  reason: string;
}

/** Phase 3: per leaf, reuse what still says what its profile says, or reissue it with the reason. */
function leafDecisions(phase: Phase, specs: readonly CertSpec[], rotated: Rotated): LeafDecision[] {
  const { input } = phase;
  const { ca, replacedCa } = rotated;
  const leafIds = specs.filter((s) => !s.isCa).map((s) => s.id);
  const renew = new Set(input.renew === 'all' ? leafIds : input.renew);
  const unknown = [...renew].filter((id) => !leafIds.includes(id));
  if (unknown.length > 0) throw new UsageError(unknown.map((id) => pkiMessages.unknownCertificate(id, leafIds)).join('\n'));
  const decisions: LeafDecision[] = [];
  for (const spec of specs) {
    if (spec.isCa) continue;
    const s = input.stored.get(spec.id) ?? { certPem: null, keyPem: null };
    if (s.certPem === null || s.keyPem === null) {
      const none = s.certPem === null && s.keyPem === null;
      decisions.push({ spec, reuse: null, action: none ? 'issued' : 'reissued', reason: none ? '' : 'half of the pair was missing' });
      continue;
    }
    const parsed = phase.parsePair(spec.id, s.certPem, s.keyPem);
    const reason =
      ca === null ? 'the CA is new' : replacedCa !== null ? 'the CA was replaced' : renew.has(spec.id) ? 'renewal requested' : staleReason(parsed.cert, spec, ca.cert, input.model.tls.renewBeforeDays, input.now);
    decisions.push({ spec, reuse: reason === null ? parsed : null, action: reason === null ? 'reused' : 'reissued', reason: reason ?? '' });
  }
  return decisions;
}

/**
 * Phase 4: every key needed, generated at once (WebCrypto generates keys off the main thread), the CA
 * first when there is none, then every leaf signed; with the reused pairs, by id.
 */
async function issueNeeded(phase: Phase, caSpec: CertSpec, rotated: Rotated, decisions: readonly LeafDecision[]): Promise<Map<string, CertPair>> {
  const { input } = phase;
  const { now } = input;
  let { ca } = rotated;
  const pairs = new Map<string, CertPair>();
  const toIssue = decisions.filter((d) => d.reuse === null);
  if (ca === null || toIssue.length > 0) {
    const issue = await import('./issue.js');
    const toGenerate = [...(ca === null ? [caSpec] : []), ...toIssue.map((d) => d.spec)];
    let generated = 0;
    const keys = new Map(
      await Promise.all(
        toGenerate.map(async (spec) => {
          const pair = await issue.generateKeyPair(spec.keyType);
          input.onKey?.(++generated, toGenerate.length);
          return [spec.id, pair] as const;
        }),
      ),
    );
    if (ca === null) {
      const caKeys = keys.get(CA_ID);
      if (!caKeys) throw new Error('CA key not generated');
      const certText = await issue.createCa(caSpec, caKeys, now);
      ca = { cert: parseCert(certText), certPem: certText, keyPem: await issue.exportPrivateKeyPem(caKeys.privateKey) };
      pairs.set(CA_ID, describe(caSpec, ca, 'issued', ''));
    }
    const issuer = await issue.makeIssuer(ca.certPem, ca.keyPem, keyTypeOf(ca.cert) ?? caSpec.keyType);
    const issued = await Promise.all(
      toIssue.map(async (d) => {
        const keyPair = keys.get(d.spec.id);
        if (!keyPair) throw new Error(`key for ${d.spec.id} not generated`);
        const certText = await issuer.issue(d.spec, keyPair, now);
        const keyText = await issue.exportPrivateKeyPem(keyPair.privateKey);
        return describe(d.spec, { cert: parseCert(certText), certPem: certText, keyPem: keyText }, d.action, d.reason);
      }),
    );
    for (const p of issued) pairs.set(p.spec.id, p);
  }
  if (ca === null) throw new Error('no CA after issuing');
  if (rotated.replacedCa !== null) pairs.set(CA_ID, describe(caSpec, ca, 'reissued', `the CA expired on ${notAfter(rotated.replacedCa.cert).toISOString().slice(0, 10)}`));
  if (!pairs.has(CA_ID)) pairs.set(CA_ID, describe(caSpec, ca, 'reused', ''));
  for (const d of decisions) if (d.reuse !== null) pairs.set(d.spec.id, describe(d.spec, d.reuse, 'reused', ''));
  return pairs;
}

/** A new CA of a rotation, key and certificate, outside the batch of keys a build generates at once. */
async function createCaPair(spec: CertSpec, now: Date): Promise<Parsed> {
  const issue = await import('./issue.js');
  const keys = await issue.generateKeyPair(spec.keyType);
  const certPem = await issue.createCa(spec, keys, now);
  return { cert: parseCert(certPem), certPem, keyPem: await issue.exportPrivateKeyPem(keys.privateKey) };
}

/** Whether a PEM bundle holds a certificate (compared without whitespace). */
function bundleIncludes(bundle: string, pem: string): boolean {
  return bundle.replace(/\s+/g, '').includes(pem.replace(/\s+/g, ''));
}

/** Why a stored leaf no longer fits its profile, or null when it can be reused. */
function staleReason(cert: X509Certificate, spec: CertSpec, caCert: X509Certificate, renewBeforeDays: number, now: Date): string | null {
  if (!cert.verify(caCert.publicKey)) return 'signed by another CA';
  if (cert.issuer !== caCert.subject) return 'issuer name differs from the CA';
  if (keyTypeOf(cert) !== spec.keyType) return `key type is now ${spec.keyType}`;
  if (cert.subject !== `CN=${spec.commonName}`) return `subject is now CN=${spec.commonName}`;
  const want = [...spec.dnsNames.map((n) => `DNS:${n}`), ...spec.ipAddresses.map((n) => `IP:${n}`)].sort();
  const have = sanList(cert);
  if (want.join(',') !== have.join(',')) {
    const added = want.filter((n) => !have.includes(n));
    const removed = have.filter((n) => !want.includes(n));
    return `names changed (${[...added.map((n) => `+${n}`), ...removed.map((n) => `-${n}`)].join(' ')})`;
  }
  if (ekuOids(cert).join(',') !== spec.usages.map((u) => EKU_OID[u]).sort().join(',')) return 'key usages changed';
  const end = notAfter(cert).getTime();
  const lifetime = end - notBefore(cert).getTime();
  const wanted = spec.days * DAY_MS + BACKDATE_MS;
  const clamped = end === notAfter(caCert).getTime();
  if (lifetime > wanted + DAY_MS || (lifetime < wanted - DAY_MS && !clamped)) return `validity is now ${spec.days} days`;
  const daysLeft = (end - now.getTime()) / DAY_MS;
  if (daysLeft <= 0) return 'expired';
  if (daysLeft < renewBeforeDays) return `expires in ${Math.floor(daysLeft)} days (renewBeforeDays ${renewBeforeDays})`;
  return null;
}

function describe(spec: CertSpec, pair: Parsed, action: PairAction, reason: string): CertPair {
  return {
    spec,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
    action,
    reason,
    notBefore: notBefore(pair.cert),
    notAfter: notAfter(pair.cert),
    serialNumber: pair.cert.serialNumber,
    fingerprint: fingerprint(pair.cert),
  };
}

export type { KeyType };
