/**
 * Stage 4, pki: decide for every certificate whether the stored one still says what it must (reuse it),
 * or a new one is needed (issue it), then generate keys and sign. No disk I/O: the secrets come in as
 * data (pki/store.ts reads and writes them) and go out as data.
 *
 * The CA is never replaced here: a missing half, a key that does not match, an expired CA, or a CA that
 * differs from the one the existing output was built with all stop the build.
 */
import { webcrypto } from 'node:crypto';
import * as x509 from './x509.js';
import type { KeyType } from '../config.js';
import { InputError, UsageError, type Diagnostic } from '../diagnostics.js';
import type { ClusterModel } from '../model.js';
import { canonicalIp } from '../validate.js';
import { pkiMessages } from './messages.js';
import {
  bytesEqual,
  certPem,
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  keyTypeOf,
  publicKeyOfPrivate,
  signingAlgorithm,
  useNodeCrypto,
} from './crypto.js';
import { CA_ID, CA_NEXT_ID, CA_PREVIOUS_ID, certSpecs, type CertSpec, type Usage } from './profiles.js';

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
  /** The CA certificate the existing output was built with, if there is one. */
  previousCaPem: string | null;
  /** Where that previous CA certificate is, for messages. */
  previousCaPath: string;
  now: Date;
  /** Leaves to reissue although they still fit, by id, or 'all'. */
  renew: readonly string[] | 'all';
  /** Take the CA rotation one step further (see RotationStep). */
  rotateCa?: boolean;
}

/**
 * A CA rotation is three builds, each deployed to every member before the next:
 * 'trust' creates the next CA and trusts it beside the current one (leaves unchanged);
 * 'sign' makes the next CA the signing one and reissues every leaf, still trusting the old CA;
 * 'finish' stops trusting the old CA.
 */
export type RotationStep = 'trust' | 'sign' | 'finish';

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
/** Issued certificates start a little in the past, for members whose clocks run behind. */
const BACKDATE_MS = 5 * 60_000;

const USAGE_OID: Record<Usage, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

interface Parsed {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

export async function runPki(input: PkiInput): Promise<PkiResult> {
  useNodeCrypto();
  const { model, stored, now } = input;
  const specs = certSpecs(model);
  const diagnostics: Diagnostic[] = [];
  const fail = (file: string, message: string): Diagnostic => ({ severity: 'error', file, pointer: '', position: { line: 1, column: 1 }, message });
  const warn = (file: string, message: string): void => {
    diagnostics.push({ severity: 'warning', file, pointer: '', position: { line: 1, column: 1 }, message });
  };

  // ---- the CA: reuse, or create only when there never was one --------------------------------------
  const caSpec = specs.find((s) => s.id === CA_ID);
  if (!caSpec) throw new Error('no CA profile');
  const caStored = stored.get(CA_ID) ?? { certPem: null, keyPem: null };
  const caCertPath = input.secretPath(CA_ID, 'crt');
  const caKeyPath = input.secretPath(CA_ID, 'key');
  let ca: Parsed | null = null;
  if (caStored.certPem === null && caStored.keyPem === null) {
    if (input.previousCaPem !== null) throw new InputError([fail(caKeyPath, pkiMessages.caMissingButOutputHasOne(input.previousCaPath))]);
  } else if (caStored.certPem === null || caStored.keyPem === null) {
    const missing = caStored.certPem === null ? caCertPath : caKeyPath;
    throw new InputError([fail(missing, pkiMessages.caHalfMissing(caCertPath, caKeyPath))]);
  } else {
    ca = await parsePair(caStored.certPem, caStored.keyPem, caCertPath, caKeyPath, fail);
    if (!ca.cert.getExtension(x509.BasicConstraintsExtension)?.ca) throw new InputError([fail(caCertPath, pkiMessages.notACa)]);
    if (ca.cert.notAfter.getTime() <= now.getTime()) throw new InputError([fail(caCertPath, pkiMessages.caExpired(ca.cert.notAfter))]);
    if (input.previousCaPem !== null && !bundleIncludes(input.previousCaPem, caStored.certPem)) {
      throw new InputError([fail(caCertPath, pkiMessages.caDiffersFromOutput(input.previousCaPath))]);
    }
    const caType = keyTypeOf(ca.cert);
    if (caType !== caSpec.keyType) warn(caCertPath, pkiMessages.caKeyTypeKept(caType ?? 'unknown', caSpec.keyType));
    const daysLeft = Math.floor((ca.cert.notAfter.getTime() - now.getTime()) / DAY_MS);
    if (daysLeft < model.tls.certDays) warn(caCertPath, pkiMessages.caExpiresSoon(daysLeft, model.tls.certDays));
  }

  // ---- CA rotation: one step per --rotate-ca ----------------------------------------------------------
  const secretOps: SecretOp[] = [];
  const nextStored = stored.get(CA_NEXT_ID);
  let next: Parsed | null = null;
  if (nextStored?.certPem && nextStored.keyPem) {
    next = await parsePair(nextStored.certPem, nextStored.keyPem, input.secretPath(CA_NEXT_ID, 'crt'), input.secretPath(CA_NEXT_ID, 'key'), fail);
  } else if (nextStored?.certPem || nextStored?.keyPem) {
    throw new InputError([fail(input.secretPath(CA_NEXT_ID, 'key'), pkiMessages.caHalfMissing(input.secretPath(CA_NEXT_ID, 'crt'), input.secretPath(CA_NEXT_ID, 'key')))]);
  }
  let previousCaPem = stored.get(CA_PREVIOUS_ID)?.certPem ?? null;
  let caKeyPem = caStored.keyPem;
  let rotation: RotationStep | null = null;
  if (input.rotateCa) {
    if (ca === null) throw new UsageError(pkiMessages.nothingToRotate);
    rotation = next !== null ? 'sign' : previousCaPem !== null ? 'finish' : 'trust';
    if (rotation === 'trust') {
      const keys = await generateKeyPair(caSpec.keyType);
      const cert = await createCa(caSpec, keys, now);
      const keyPem = await exportPrivateKeyPem(keys.privateKey);
      next = { cert, key: keys.privateKey };
      secretOps.push({ kind: 'write', id: CA_NEXT_ID, ext: 'key', contents: keyPem, exclusive: true });
      secretOps.push({ kind: 'write', id: CA_NEXT_ID, ext: 'crt', contents: certPem(cert), exclusive: true });
    } else if (rotation === 'sign' && next !== null) {
      // The one deliberate replacement of a CA: the next CA, trusted everywhere since step 1, now signs.
      previousCaPem = certPem(ca.cert);
      ca = next;
      caKeyPem = nextStored?.keyPem ?? null;
      next = null;
      secretOps.push({ kind: 'write', id: CA_PREVIOUS_ID, ext: 'crt', contents: previousCaPem, exclusive: false });
      secretOps.push({ kind: 'write', id: CA_ID, ext: 'key', contents: caKeyPem ?? '', exclusive: false });
      secretOps.push({ kind: 'write', id: CA_ID, ext: 'crt', contents: certPem(ca.cert), exclusive: false });
      secretOps.push({ kind: 'remove', id: CA_NEXT_ID, ext: 'key' }, { kind: 'remove', id: CA_NEXT_ID, ext: 'crt' });
    } else {
      previousCaPem = null;
      secretOps.push({ kind: 'remove', id: CA_PREVIOUS_ID, ext: 'crt' });
    }
  }

  // ---- leaves: reuse what still says what it must ------------------------------------------------------
  const leafIds = specs.filter((s) => !s.isCa).map((s) => s.id);
  const renew = new Set(input.renew === 'all' ? leafIds : input.renew);
  const unknown = [...renew].filter((id) => !leafIds.includes(id));
  if (unknown.length > 0) throw new UsageError(unknown.map((id) => pkiMessages.unknownCertificate(id, leafIds)).join('\n'));
  const decisions: { spec: CertSpec; reuse: Parsed | null; action: PairAction; reason: string }[] = [];
  for (const spec of specs) {
    if (spec.isCa) continue;
    const s = stored.get(spec.id) ?? { certPem: null, keyPem: null };
    if (s.certPem === null || s.keyPem === null) {
      decisions.push({ spec, reuse: null, action: s.certPem === null && s.keyPem === null ? 'issued' : 'reissued', reason: s.certPem === null && s.keyPem === null ? '' : 'half of the pair was missing' });
      continue;
    }
    const parsed = await parsePair(s.certPem, s.keyPem, input.secretPath(spec.id, 'crt'), input.secretPath(spec.id, 'key'), fail);
    const reason =
      ca === null ? 'the CA is new' : renew.has(spec.id) ? 'renewal requested' : await staleReason(parsed.cert, spec, ca.cert, model.tls.renewBeforeDays, now);
    decisions.push({ spec, reuse: reason === null ? parsed : null, action: reason === null ? 'reused' : 'reissued', reason: reason ?? '' });
  }

  // ---- generate every new key at once (WebCrypto runs key generation off the main thread) -------------
  const toGenerate = [...(ca === null ? [caSpec] : []), ...decisions.filter((d) => d.reuse === null).map((d) => d.spec)];
  const keys = new Map(await Promise.all(toGenerate.map(async (spec) => [spec.id, await generateKeyPair(spec.keyType)] as const)));

  const pairs = new Map<string, CertPair>();
  let caCert: x509.X509Certificate;
  let caKey: CryptoKey;
  let caKeyType: KeyType;
  if (ca === null) {
    const pair = keys.get(CA_ID);
    if (!pair) throw new Error('CA key not generated');
    caCert = await createCa(caSpec, pair, now);
    caKey = pair.privateKey;
    caKeyType = caSpec.keyType;
    pairs.set(CA_ID, await describe(caSpec, caCert, await exportPrivateKeyPem(pair.privateKey), 'issued', ''));
  } else {
    caCert = ca.cert;
    caKey = ca.key;
    caKeyType = keyTypeOf(ca.cert) ?? caSpec.keyType;
    pairs.set(CA_ID, await describe(caSpec, ca.cert, caKeyPem ?? '', 'reused', ''));
  }

  const leafPairs = await Promise.all(
    decisions.map(async (d) => {
      const stored = d.reuse;
      if (stored !== null) return describe(d.spec, stored.cert, (input.stored.get(d.spec.id)?.keyPem ?? ''), 'reused', '');
      const keyPair = keys.get(d.spec.id);
      if (!keyPair) throw new Error(`key for ${d.spec.id} not generated`);
      const cert = await issueLeaf(d.spec, keyPair, caCert, caKey, caKeyType, now);
      return describe(d.spec, cert, await exportPrivateKeyPem(keyPair.privateKey), d.action, d.reason);
    }),
  );
  for (const p of leafPairs) pairs.set(p.spec.id, p);

  for (const p of pairs.values()) {
    if (p.spec.isCa) continue;
    if (p.notAfter.getTime() < now.getTime() + p.spec.days * DAY_MS - DAY_MS && p.action !== 'reused') {
      warn(input.secretPath(p.spec.id, 'crt'), pkiMessages.leafClampedToCa(p.notAfter));
    }
  }
  const trustBundle = [certPem(caCert), ...(next !== null ? [certPem(next.cert)] : []), ...(previousCaPem !== null ? [previousCaPem] : [])].join('');
  return { pairs, trustBundle, rotation, secretOps, diagnostics };
}

/** A CA certificate: a CA and nothing else, that may sign leaves only (pathlen 0). */
async function createCa(spec: CertSpec, keys: CryptoKeyPair, now: Date): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${spec.commonName}`,
    notBefore: startOf(now),
    notAfter: new Date(now.getTime() + spec.days * DAY_MS),
    keys,
    signingAlgorithm: signingAlgorithm(spec.keyType),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
}

/** Whether a PEM bundle holds a certificate (compared without whitespace). */
function bundleIncludes(bundle: string, pem: string): boolean {
  return bundle.replace(/\s+/g, '').includes(pem.replace(/\s+/g, ''));
}

function startOf(now: Date): Date {
  return new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
}

/** A random positive 128-bit serial whose first byte keeps its encoded length fixed. */
function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x10;
  return Buffer.from(bytes).toString('hex');
}

async function parsePair(
  certText: string,
  keyText: string,
  certPath: string,
  keyPath: string,
  fail: (file: string, message: string) => Diagnostic,
): Promise<Parsed> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certText);
  } catch {
    throw new InputError([fail(certPath, pkiMessages.notACertificate)]);
  }
  const type = keyTypeOf(cert);
  if (type === null) throw new InputError([fail(certPath, pkiMessages.unsupportedKeyType)]);
  let key: CryptoKey;
  try {
    key = await importPrivateKeyPem(keyText, type);
  } catch {
    throw new InputError([fail(keyPath, pkiMessages.notAKey(certPath))]);
  }
  const certSpki = await cert.publicKey.export().then((k) => useNodeCrypto().exportKey('spki', k));
  if (!bytesEqual(certSpki, await publicKeyOfPrivate(key))) throw new InputError([fail(keyPath, pkiMessages.keyMismatch(certPath))]);
  return { cert, key };
}

/** Why a stored leaf no longer fits its profile, or null when it can be reused. */
async function staleReason(
  cert: x509.X509Certificate,
  spec: CertSpec,
  caCert: x509.X509Certificate,
  renewBeforeDays: number,
  now: Date,
): Promise<string | null> {
  if (!(await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true }))) return 'signed by another CA';
  if (cert.issuer !== caCert.subject) return 'issuer name differs from the CA';
  if (keyTypeOf(cert) !== spec.keyType) return `key type is now ${spec.keyType}`;
  if (cert.subject !== `CN=${spec.commonName}`) return `subject is now CN=${spec.commonName}`;
  const want = [...spec.dnsNames.map((n) => `DNS:${n}`), ...spec.ipAddresses.map((n) => `IP:${canonicalIp(n)}`)].sort();
  const have = sanList(cert);
  if (want.join(',') !== have.join(',')) {
    const added = want.filter((n) => !have.includes(n));
    const removed = have.filter((n) => !want.includes(n));
    return `names changed (${[...added.map((n) => `+${n}`), ...removed.map((n) => `-${n}`)].join(' ')})`;
  }
  const eku = (cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? []).map(String).sort();
  if (eku.join(',') !== spec.usages.map((u) => USAGE_OID[u]).sort().join(',')) return 'key usages changed';
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
  const wanted = spec.days * DAY_MS + BACKDATE_MS;
  const clamped = cert.notAfter.getTime() === caCert.notAfter.getTime();
  if (lifetime > wanted + DAY_MS || (lifetime < wanted - DAY_MS && !clamped)) return `validity is now ${spec.days} days`;
  const daysLeft = (cert.notAfter.getTime() - now.getTime()) / DAY_MS;
  if (daysLeft <= 0) return 'expired';
  if (daysLeft < renewBeforeDays) return `expires in ${Math.floor(daysLeft)} days (renewBeforeDays ${renewBeforeDays})`;
  return null;
}

export function sanList(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return (san?.names.items ?? [])
    .map((n) => (n.type === 'ip' ? `IP:${canonicalIp(n.value)}` : n.type === 'dns' ? `DNS:${n.value}` : `${n.type}:${n.value}`))
    .sort();
}

async function issueLeaf(
  spec: CertSpec,
  keys: CryptoKeyPair,
  caCert: x509.X509Certificate,
  caKey: CryptoKey,
  caKeyType: KeyType,
  now: Date,
): Promise<x509.X509Certificate> {
  const isRsa = spec.keyType.startsWith('rsa');
  const names: x509.JsonGeneralName[] = [
    ...spec.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...spec.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (isRsa ? x509.KeyUsageFlags.keyEncipherment : 0), true),
    new x509.ExtendedKeyUsageExtension(spec.usages.map((u) => USAGE_OID[u]), false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const wantedEnd = now.getTime() + spec.days * DAY_MS;
  return x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${spec.commonName}`,
    issuer: caCert.subject,
    notBefore: startOf(now),
    notAfter: new Date(Math.min(wantedEnd, caCert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: signingAlgorithm(caKeyType),
    extensions,
  });
}

async function describe(spec: CertSpec, cert: x509.X509Certificate, keyPem: string, action: PairAction, reason: string): Promise<CertPair> {
  const digest = new Uint8Array(await useNodeCrypto().digest('SHA-256', cert.rawData));
  return {
    spec,
    certPem: certPem(cert),
    keyPem,
    action,
    reason,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    serialNumber: cert.serialNumber,
    fingerprint: [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':'),
  };
}
