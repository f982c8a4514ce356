/**
 * out/expected.json: what a running cluster built from this output serves, for `etcd-gen status` (and
 * later the alert rules): each member's client and peer URLs, the SHA-256 fingerprints of the server and
 * peer certificates out/ holds for it, the CA bundle's, the release and the backend quota. Pure: a
 * function of the model and the PKI's pairs, deterministic (no time in it).
 */
import { createHash } from 'node:crypto';
import type { CertPair } from '../pki/index.js';
import { peerId, serverId } from '../pki/profiles.js';
import type { ClusterModel } from '../model/types.js';

/** Path of the file in out/. */
export const EXPECTED_FILE = 'expected.json';

/** etcd's default backend quota when --quota-backend-bytes is not set (2 GiB: etcd's DefaultQuotaBytes, docs "Maintenance: space quota"). */
export const ETCD_DEFAULT_QUOTA_BYTES = 2 * 1024 ** 3;

/** One certificate as a member should serve it: SHA-256 fingerprint (hex pairs with colons, as Node's fingerprint256) and expiry (ISO 8601). */
export interface ExpectedCertificate {
  sha256: string;
  notAfter: string;
}

export interface ExpectedMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  /** The certificate served on the client URL (nodes/<name>/server) and on the peer URL (nodes/<name>/peer). */
  server: ExpectedCertificate;
  peer: ExpectedCertificate;
}

/** The contents of out/expected.json. */
export interface ExpectedCluster {
  generated: string;
  cluster: string;
  /** The release every member should run (`etcd --version`), and its minor line (the cluster version etcd settles at is `<minor>.0`). */
  etcdVersion: string;
  etcdMinor: string;
  /** --quota-backend-bytes every member gets (etcd's default when cluster.yaml sets none), in bytes. */
  quotaBackendBytes: number;
  /** tls.renewBeforeDays: a served certificate with fewer days left is a difference. */
  renewBeforeDays: number;
  /** The CAs every member trusts (admin/pki/ca.crt, more than one during a CA rotation), SHA-256 each. */
  caBundle: string[];
  members: ExpectedMember[];
}

function certOf(pairs: ReadonlyMap<string, CertPair>, id: string): ExpectedCertificate {
  const pair = pairs.get(id);
  if (!pair) throw new Error(`no certificate ${id}`);
  return { sha256: pair.fingerprint, notAfter: pair.notAfter.toISOString() };
}

/**
 * The SHA-256 fingerprints of every certificate in a PEM bundle, in its order: the digest of each block's
 * DER (RFC 7468 base64), as hex pairs with colons (Node's fingerprint256), without parsing the certificate.
 */
export function bundleFingerprints(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => {
    const der = Buffer.from(b.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''), 'base64');
    const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
    return hex.match(/../g)?.join(':') ?? '';
  });
}

/** The expected file's data: model + pairs + trust bundle -> ExpectedCluster. Throws when a member's pair is missing (a bug). */
export function expectedCluster(model: ClusterModel, pairs: ReadonlyMap<string, CertPair>, trustBundle: string): ExpectedCluster {
  const quota = model.members[0]?.settings.find((s) => s.env === 'ETCD_QUOTA_BACKEND_BYTES');
  return {
    generated: model.notice,
    cluster: model.name,
    etcdVersion: model.etcd.text,
    etcdMinor: `3.${model.etcd.minor}`,
    quotaBackendBytes: quota ? Number(quota.value) : ETCD_DEFAULT_QUOTA_BYTES,
    renewBeforeDays: model.tls.renewBeforeDays,
    caBundle: bundleFingerprints(trustBundle),
    members: model.members.map((m) => ({
      name: m.name,
      clientUrl: m.clientUrl,
      peerUrl: m.peerUrl,
      server: certOf(pairs, serverId(m.name)),
      peer: certOf(pairs, peerId(m.name)),
    })),
  };
}

/** The file's text: two-space JSON and a final newline, as manifest.json. */
export const expectedText = (expected: ExpectedCluster): string => `${JSON.stringify(expected, null, 2)}\n`;
