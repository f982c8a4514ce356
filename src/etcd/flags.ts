/**
 * Which etcd server settings a member gets, per etcd release. Each setting is emitted as the ETCD_*
 * environment variable of its flag (etcd reads ETCD_<FLAG_IN_UPPER_SNAKE> for every flag).
 * Only flags the target release accepts are emitted: several came in a patch release of a line, 3.6
 * moved the corruption checks behind --feature-gates, and 3.7 removed every --experimental-* flag
 * (etcd's upgrade guide to 3.7). test/etcd-flags.test.ts checks every emitted flag against the flag
 * lists of each release line (data/etcd-flags/), and test/etcd-matrix.test.ts against
 * `etcd --help` of every release binary in the test matrix.
 */
import { extraFlagText, type ExtraFlagValue } from './flag-values.js';

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
  /** etcd.tuning: the limits and timeouts set in cluster.yaml (absent: etcd's default, nothing written). */
  tuning?: Partial<Record<TuningField, number>>;
  /** etcd.extraFlags, already checked (validate.ts): flag name without dashes -> value. */
  extraFlags?: Readonly<Record<string, ExtraFlagValue>>;
}

/**
 * etcd.tuning's fields, the flag each sets, and why it is written (rendered above it in etcd.conf).
 * Units as etcd takes them: bytes, milliseconds, a count. Source: etcd's flag reference and its tuning
 * guide (op-guide/configuration, tuning).
 */
export const TUNING_FLAGS = {
  quotaBackendBytes: { flag: 'quota-backend-bytes', why: 'etcd.tuning.quotaBackendBytes: the database size at which etcd raises NOSPACE (bytes).' },
  heartbeatIntervalMs: { flag: 'heartbeat-interval', why: 'etcd.tuning.heartbeatIntervalMs: how often the leader sends heartbeats (ms).' },
  electionTimeoutMs: { flag: 'election-timeout', why: 'etcd.tuning.electionTimeoutMs: how long a follower waits for the leader before an election (ms).' },
  snapshotCount: { flag: 'snapshot-count', why: 'etcd.tuning.snapshotCount: committed transactions between raft snapshots.' },
  maxRequestBytes: { flag: 'max-request-bytes', why: 'etcd.tuning.maxRequestBytes: the largest request a client may send (bytes).' },
} as const;
export type TuningField = keyof typeof TUNING_FLAGS;

/** etcd's defaults for the raft timing, which the election timeout is checked against (etcd's flag reference). */
export const ETCD_DEFAULT_HEARTBEAT_MS = 100;
export const ETCD_DEFAULT_ELECTION_MS = 1000;
/** etcd refuses an election timeout under 5 heartbeats (etcd's embed config validation). */
export const ELECTION_HEARTBEATS_MIN = 5;
/** Above these etcd's docs advise against: 8 GiB of database, 10 MiB per request (etcd's dev-guide/limit). */
export const QUOTA_SUGGESTED_MAX = 8 * 1024 ** 3;
export const REQUEST_BYTES_WARN = 10 * 1024 ** 2;

/**
 * Flags refused in etcd.extraFlags although etcd-gen does not write them for every cluster: each would undo
 * a security setting, or take over something etcd-gen owns. Flag -> why.
 */
const REFUSED_EXTRA_FLAGS: Readonly<Record<string, string>> = {
  'client-crl-file': 'etcd-gen writes it once a certificate is revoked (build --revoke)',
  'peer-crl-file': 'etcd-gen writes it once a certificate is revoked (build --revoke)',
  'client-cert-file': "the member's TLS files come from etcd-gen's PKI",
  'client-key-file': "the member's TLS files come from etcd-gen's PKI",
  'peer-client-cert-file': "the member's TLS files come from etcd-gen's PKI",
  'peer-client-key-file': "the member's TLS files come from etcd-gen's PKI",
  'tls-max-version': "the TLS policy is etcd-gen's (TLS 1.2 and later, AEAD suites)",
  'peer-cert-allowed-hostname': 'members accept peers by the peer CN (tls.peerCommonName)',
  'client-cert-allowed-hostname': 'clients are checked by their certificate from this CA',
  'initial-cluster-state': 'the runbooks set it when a member joins a running cluster',
  'force-new-cluster': 'it rewrites the membership at every start; runbooks/restore.sh rebuilds a cluster from a snapshot',
  discovery: 'the initial cluster comes from nodes[] in cluster.yaml',
  'discovery-srv': 'the initial cluster comes from nodes[] in cluster.yaml',
  'discovery-srv-name': 'the initial cluster comes from nodes[] in cluster.yaml',
  'discovery-fallback': 'the initial cluster comes from nodes[] in cluster.yaml',
  'discovery-proxy': 'the initial cluster comes from nodes[] in cluster.yaml',
  'listen-client-http-urls': 'the listeners come from nodes[] and ports in cluster.yaml',
  config: 'the unit reads etcd.conf, which etcd-gen writes',
  'peer-skip-client-san-verification': "peers would be accepted from addresses their certificates do not name",
  'experimental-peer-skip-client-san-verification': "peers would be accepted from addresses their certificates do not name",
  'unsafe-no-fsync': 'a crash or power loss would lose writes etcd had acknowledged',
  'strict-reconfig-check': 'etcd would accept membership changes that cost the quorum',
  proxy: 'etcd-gen runs members, not proxies',
  'config-file': 'the unit reads etcd.conf, which etcd-gen writes',
};

/** The experimental corruption-check flags of 3.5 and the 3.6 feature gates that replace them. */
const CORRUPTION_CHECK_GATES: Readonly<Record<string, string>> = {
  'experimental-initial-corrupt-check': 'InitialCorruptCheck',
  'experimental-compact-hash-check-enabled': 'CompactHashCheck',
};

/** Why a security setting among those etcd-gen writes may not be changed: flag -> why. */
const SECURITY_FLAGS: Readonly<Record<string, string>> = {
  'client-cert-auth': 'without it any client that reaches the port may read and write every key',
  'peer-client-cert-auth': 'without it anything that reaches the peer port may join the raft traffic',
  'auto-tls': 'self-signed certificates nothing checks',
  'peer-auto-tls': 'self-signed certificates nothing checks',
  'cert-file': "the member's TLS files come from etcd-gen's PKI",
  'key-file': "the member's TLS files come from etcd-gen's PKI",
  'trusted-ca-file': "the member's TLS files come from etcd-gen's PKI",
  'peer-cert-file': "the member's TLS files come from etcd-gen's PKI",
  'peer-key-file': "the member's TLS files come from etcd-gen's PKI",
  'peer-trusted-ca-file': "the member's TLS files come from etcd-gen's PKI",
  'peer-cert-allowed-cn': 'it is tls.peerCommonName in cluster.yaml',
  'cipher-suites': "the TLS policy is etcd-gen's (TLS 1.2 and later, AEAD suites)",
  'tls-min-version': "the TLS policy is etcd-gen's (TLS 1.2 and later, AEAD suites)",
  'enable-pprof': 'profiling endpoints open to every client of the port',
};

/**
 * Why FLAG may not be set through etcd.extraFlags for release R, or null when it may: a flag etcd.tuning
 * names, a security setting, a flag etcd-gen writes itself (etcd would read the later line), or one of
 * REFUSED_EXTRA_FLAGS. Whether the release has the flag at all is checked apart (validate.ts).
 */
export function extraFlagRefusal(flag: string, r: EtcdRelease): string | null {
  for (const [field, t] of Object.entries(TUNING_FLAGS)) if (t.flag === flag) return `etcd.tuning.${field} sets it`;
  const security = SECURITY_FLAGS[flag];
  if (security !== undefined) return `etcd-gen sets it: ${security}`;
  const refused = REFUSED_EXTRA_FLAGS[flag];
  if (refused !== undefined) return `etcd-gen does not let it be set: ${refused}`;
  // 3.6 refuses an experimental flag together with the feature gate that replaces it, and etcd-gen sets
  // the corruption checks' gates (etcd's upgrade guide to 3.6).
  const gate = CORRUPTION_CHECK_GATES[flag];
  if (r.minor >= 6 && gate !== undefined) return `etcd-gen sets its feature gate ${gate}, and etcd ${`3.${r.minor}`} refuses both`;
  if (flag === 'feature-gates') return 'etcd-gen sets the feature gates (InitialCorruptCheck, CompactHashCheck); other gates are not supported yet';
  const written = memberSettings({
    release: r, name: 'm', dataDir: '/d', listenPeerUrls: [], listenClientUrls: [], listenMetricsUrl: '', peerUrl: '', clientUrl: '',
    initialCluster: '', initialClusterToken: '', pkiDir: '/p', peerCommonName: 'cn', tokenGiven: true,
  });
  if (written.some((s) => s.flag === flag)) return "etcd-gen writes it itself (each member's etcd.conf shows the value)";
  return null;
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
  for (const [field, t] of Object.entries(TUNING_FLAGS)) {
    const value = m.tuning?.[field as TuningField];
    if (value !== undefined) settings.push(setting(t.flag, String(value), t.why));
  }
  Object.entries(m.extraFlags ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .forEach(([flag, value], i) => settings.push(setting(flag, extraFlagText(value), i === 0 ? 'etcd.extraFlags in cluster.yaml:' : undefined)));
  return settings;
}
