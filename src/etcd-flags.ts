/**
 * Which etcd server settings a member gets, per etcd release. Each setting is emitted as the ETCD_*
 * environment variable of its flag (etcd reads ETCD_<FLAG_IN_UPPER_SNAKE> for every flag).
 * Only flags the target release accepts are emitted: several came in a patch release of a line, 3.6
 * moved the corruption checks behind --feature-gates, and 3.7 removed every --experimental-* flag
 * (etcd's upgrade guide to 3.7). test/etcd-flags.test.ts checks every emitted flag against the flag
 * lists of each release line (test/fixtures/etcd-flags/), and test/etcd-matrix.test.ts against
 * `etcd --help` of every release binary in the test matrix.
 */
export type EtcdMinor = 4 | 5 | 6 | 7;

export interface EtcdRelease {
  minor: EtcdMinor;
  patch: number;
}

export interface EtcdSetting {
  /** The command-line flag without dashes, e.g. `listen-peer-urls`. */
  flag: string;
  /** Its environment variable, e.g. `ETCD_LISTEN_PEER_URLS`. */
  env: string;
  value: string;
  /** Why this setting is here, when that is not obvious; rendered as a comment. */
  why?: string;
}

export interface MemberFlagInput {
  release: EtcdRelease;
  name: string;
  dataDir: string;
  listenPeerUrls: string[];
  listenClientUrls: string[];
  listenMetricsUrl: string;
  peerUrl: string;
  clientUrl: string;
  initialCluster: string;
  initialClusterToken: string;
  pkiDir: string;
  /** The CN every peer certificate of this cluster carries, and no other certificate does. */
  peerCommonName: string;
  /** The token was set in cluster.yaml (an imported cluster keeps its own), not derived from the name. */
  tokenGiven?: boolean;
  /** The CA's revocation list (DER) on the member, once anything is revoked; null before. */
  crlFile?: string | null;
}

/** First patch release with --tls-min-version, per line (3.4.25, 3.5.8; all of 3.6). */
const TLS_MIN_VERSION_SINCE: Readonly<Record<EtcdMinor, number>> = { 4: 25, 5: 8, 6: 0, 7: 0 };
/** First 3.5 patch release with --experimental-compact-hash-check-enabled. */
const COMPACT_HASH_CHECK_SINCE_35 = 5;

/**
 * TLS 1.2 suites: ECDHE key exchange and AEAD ciphers only, for ECDSA and RSA keys. These names are the
 * ones every 3.4, 3.5, 3.6 and 3.7 release parses (3.4.0 knows the ChaCha20 suites without the _SHA256 suffix).
 * TLS 1.3 suites are not configurable, and all of them are strong.
 */
export const CIPHER_SUITES = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
] as const;

export function envName(flag: string): string {
  return `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function setting(flag: string, value: string, why?: string): EtcdSetting {
  return why === undefined ? { flag, env: envName(flag), value } : { flag, env: envName(flag), value, why };
}

export function hasTlsMinVersion(r: EtcdRelease): boolean {
  return r.patch >= TLS_MIN_VERSION_SINCE[r.minor];
}

/** Whether the release ships etcdutl, which takes over offline snapshot work from etcdctl (3.5 and later). */
export function hasEtcdutl(r: EtcdRelease): boolean {
  return r.minor >= 5;
}

/** First 3.5 patch release whose snapshot restore has --bump-revision and --mark-compacted. */
const RESTORE_REVISION_BUMP_SINCE_35 = 10;

/** Whether snapshot restore can bump the revision and mark it compacted (3.5.10 and later, all of 3.6 and 3.7). */
export function hasRestoreRevisionBump(r: EtcdRelease): boolean {
  return r.minor >= 6 || (r.minor === 5 && r.patch >= RESTORE_REVISION_BUMP_SINCE_35);
}

/** Whether the release can check the hashes of compacted revisions (3.5.5 and later). */
export function hasCompactHashCheck(r: EtcdRelease): boolean {
  return r.minor >= 6 || (r.minor === 5 && r.patch >= COMPACT_HASH_CHECK_SINCE_35);
}

/**
 * The corruption checks, in the syntax of the release: experimental flags up to 3.5, feature gates from
 * 3.6 (3.7 has the same two gates and no experimental flags at all).
 * The periodic latest-revision check (--experimental-corrupt-check-time) stays off: etcd's docs call it
 * costly (it hashes the whole keyspace), and the compacted-revision check does the same job cheaply.
 */
function corruptionChecks(r: EtcdRelease): EtcdSetting[] {
  const initial = 'Compare the data with the peers before serving, and refuse to start on a mismatch.';
  const compactHash = 'The leader compares the hash of every compacted revision with the followers; cheap, and raises a CORRUPT alarm on a mismatch.';
  if (r.minor >= 6) {
    // 3.6 deprecates the experimental flags (setting one and its gate together is an error); 3.7 removes them.
    return [setting('feature-gates', 'InitialCorruptCheck=true,CompactHashCheck=true', `${initial} ${compactHash}`)];
  }
  const checks = [setting('experimental-initial-corrupt-check', 'true', initial)];
  if (hasCompactHashCheck(r)) {
    checks.push(setting('experimental-compact-hash-check-enabled', 'true', compactHash));
  }
  return checks;
}

/** The full member configuration, in the order it is written to etcd.conf. */
export function memberSettings(m: MemberFlagInput): EtcdSetting[] {
  const r = m.release;
  const settings: EtcdSetting[] = [
    setting('name', m.name),
    setting('data-dir', m.dataDir),
    setting('listen-peer-urls', m.listenPeerUrls.join(',')),
    setting('listen-client-urls', m.listenClientUrls.join(',')),
    setting('initial-advertise-peer-urls', m.peerUrl),
    setting('advertise-client-urls', m.clientUrl),
    setting(
      'listen-metrics-urls',
      m.listenMetricsUrl,
      'Plain HTTP /metrics and /health for local monitoring, on loopback only; the client port serves them too, to clients with a certificate.',
    ),
    setting('initial-cluster', m.initialCluster),
    setting('initial-cluster-state', 'new', 'Read only on first start with an empty data dir. A member joining a running cluster gets "existing" from the join env file the runbooks write.'),
    setting(
      'initial-cluster-token',
      m.initialClusterToken,
      `${m.tokenGiven ? 'From cluster.yaml.' : 'Derived from the cluster name: the same on every build, different per cluster.'} Read only when the cluster is first created, to derive its cluster ID; a running cluster ignores it, so etcd-gen never changes it.`,
    ),
    // Client side: TLS with client certificates from the cluster CA, nothing automatic.
    setting('cert-file', `${m.pkiDir}/server.crt`),
    setting('key-file', `${m.pkiDir}/server.key`),
    setting('trusted-ca-file', `${m.pkiDir}/ca.crt`),
    setting('client-cert-auth', 'true'),
    setting('auto-tls', 'false'),
    // Peer side: the same, with the member's own peer certificate.
    setting('peer-cert-file', `${m.pkiDir}/peer.crt`),
    setting('peer-key-file', `${m.pkiDir}/peer.key`),
    setting('peer-trusted-ca-file', `${m.pkiDir}/ca.crt`),
    setting('peer-client-cert-auth', 'true'),
    setting('peer-auto-tls', 'false'),
    setting(
      'peer-cert-allowed-cn',
      m.peerCommonName,
      'Only peer certificates carry this CN: a client certificate of the same CA (admin, kube-apiserver) is refused as a peer.',
    ),
  ];
  if (m.crlFile) {
    // Both flags are in every 3.4, 3.5 and 3.6 release; etcd reads the file on each new connection.
    settings.push(
      setting('client-crl-file', m.crlFile, 'Certificates the CA revoked (etcd-gen build --revoke): refused on the client port, and on the peer port below.'),
      setting('peer-crl-file', m.crlFile),
    );
  }
  if (hasTlsMinVersion(r)) {
    // TLS 1.3 only would forbid a cipher list; TLS 1.2 with the list below keeps every client working.
    settings.push(setting('tls-min-version', 'TLS1.2'));
  }
  settings.push(
    setting(
      'cipher-suites',
      CIPHER_SUITES.join(','),
      hasTlsMinVersion(r) ? 'TLS 1.2 with forward secrecy and AEAD only.' : 'TLS 1.2 with forward secrecy and AEAD only; etcd refuses anything older than TLS 1.2.',
    ),
    setting('enable-pprof', 'false', 'Stated so a review sees it: no profiling endpoints, and no debug logging.'),
    setting('log-level', 'info'),
  );
  if (r.minor === 4) settings.push(setting('logger', 'zap', 'etcd 3.4 defaults to the deprecated capnslog logger.'));
  settings.push(...corruptionChecks(r));
  return settings;
}
