/**
 * What `etcd-gen status` reads from a running cluster, as plain data: the live reading
 * (`LiveCluster`, from src/observe/live.ts), the differences from out/ (src/observe/compare.ts), and the
 * observation file state/observed.json (`Observation`, src/observe/state.ts), an input a later stage
 * (plan) can read like cluster.yaml and out/. Ids are etcd's, in hex as etcdctl -w table prints them.
 */

/** A member as `member list` gives it (etcd's Member message). */
export interface LiveMember {
  /** Member id, hex. */
  id: string;
  /** Empty for a member added but not started yet. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  learner: boolean;
}

/** What `endpoint status` gives for one member (etcd's maintenance StatusResponse). */
export interface EndpointStatus {
  /** Member id, hex. */
  id: string;
  /** The release the member runs (`etcd --version`). */
  release: string;
  /** The leader's member id as this member sees it, hex; "0" when it knows none. */
  leader: string;
  raftIndex: number;
  raftTerm: number;
  /** Backend size and the part in use, bytes. */
  dbSize: number;
  dbSizeInUse: number;
  /** The member's backend quota in bytes, when the release reports it (3.6 on: dbSizeQuota); else null. */
  dbSizeQuota: number | null;
  learner: boolean;
  /** The errors the member reports (e.g. "memberID:… alarm:NOSPACE"). */
  errors: string[];
}

/** A certificate a member serves, read from the TLS handshake. */
export interface ServedCertificate {
  /** SHA-256 of the DER, hex pairs with colons (Node's fingerprint256). */
  sha256: string;
  notAfter: string;
  /** Whole days from the reading to notAfter (negative: expired). */
  daysLeft: number;
  /** Whether a client with out/'s bundle (admin/pki/ca.crt) accepts it for the URL's host: chain and names. */
  trusted: boolean;
  /** Why not, as Node's TLS says it (e.g. "Hostname/IP does not match certificate's altnames: ..."); null when trusted. */
  refusal: string | null;
  /** The TLS version of the handshake, e.g. TLSv1.3. */
  protocol: string;
}

/** A fact read, or why it could not be. */
export type Reading<T> = { ok: true; value: T } | { ok: false; error: string };

/** One member of out/, as reached at the URLs out/ gives it. */
export interface LiveEndpoint {
  name: string;
  clientUrl: string;
  peerUrl: string;
  status: Reading<EndpointStatus>;
  /** GET /version: the member's release and the cluster version it sees. */
  version: Reading<{ server: string; cluster: string }>;
  /** A linearizable read through this member (what `endpoint health` does): it needs a quorum. */
  quorumRead: Reading<{ revision: number }>;
  /** The certificate served on the client URL (with the admin certificate) and on the peer URL (none sent). */
  server: Reading<ServedCertificate>;
  peer: Reading<ServedCertificate>;
}

export interface LiveAlarm {
  /** Member id, hex. */
  memberId: string;
  alarm: string;
}

/** The whole live reading: every member asked at once. The cluster-wide facts are null without a quorum. */
export interface LiveCluster {
  /** When the reading started, ISO 8601. */
  observedAt: string;
  /** How long the whole reading took, ms (every member at once). */
  elapsedMs: number;
  /** Whether some member answered a linearizable read. */
  quorum: boolean;
  endpoints: LiveEndpoint[];
  /** Hex, from the response headers. */
  clusterId: string | null;
  revision: number | null;
  clusterVersion: string | null;
  members: LiveMember[] | null;
  alarms: LiveAlarm[] | null;
}

export type DifferenceKind =
  | 'member-down'
  | 'member-missing'
  | 'member-unexpected'
  | 'member-urls'
  | 'member-learner'
  | 'release'
  | 'cluster-version'
  | 'alarm'
  | 'certificate-not-out'
  | 'certificate-untrusted'
  | 'certificate-expiring'
  | 'no-leader';

/** One way the cluster is not what out/ describes. */
export interface Difference {
  kind: DifferenceKind;
  /** The member of out/ it is about, when one. */
  member?: string;
  message: string;
}

/** state/observed.json: the cluster as `status` last found it. Plain data; only `observedAt` is not deterministic. */
export interface Observation {
  generated: string;
  /** The version of this file's layout. */
  format: 1;
  observedAt: string;
  cluster: string;
  clusterId: string;
  revision: number;
  clusterVersion: string | null;
  members: (LiveMember & { release: string | null })[];
  /** The certificates each member served, by member name: SHA-256 or null when not read. */
  served: { name: string; server: string | null; peer: string | null }[];
}
