/**
 * The model's types: what stage 3 (model) gives to the PKI, the renderers and the output. Plain data; every
 * default resolved and every derived value computed once (src/model/build.ts makes it).
 */
import type { InstallSource, KeyType, KubeadmApiVersion } from '../input/config.js';
import type { ReleaseRisk } from '../etcd/releases.js';
import type { EtcdMinor, EtcdSetting } from '../etcd/flags.js';
export interface EtcdVersion {
  text: string;
  minor: EtcdMinor;
  patch: number;
}

export interface MemberModel {
  name: string;
  /** DNS name or canonical IP that peers and clients dial. */
  host: string;
  /** The member's IP, canonical, when known (the ip field, or host when host is an IP). */
  ip: string | null;
  /** Its other names and addresses (nodes[].extraSANs, IPs canonical), for its server and peer certificates. */
  extraSANs: string[];
  peerUrl: string;
  clientUrl: string;
  listenPeerUrls: string[];
  listenClientUrls: string[];
  /** Plain-HTTP /metrics and /health, on a loopback address of the member's own. */
  listenMetricsUrl: string;
  /** Name of this member's etcdctl shell function in admin/aliases.sh. */
  etcdctlFunction: string;
  /** The member's node id in the README's Mermaid diagram. */
  diagramId: string;
  /** Where this member's overlay lives in out/, e.g. `nodes/etcd1/root`. */
  overlayDir: string;
  /** This member's cloud-init user-data in out/, e.g. `nodes/etcd1/user-data.yaml`. */
  userDataPath: string;
  settings: EtcdSetting[];
}

/** A member's name and addresses: what a membership change is planned from (src/model/membership.ts). */
export type MemberEndpoints = Pick<MemberModel, 'name' | 'host' | 'peerUrl' | 'clientUrl'>;

export interface ClusterModel {
  name: string;
  token: string;
  /** Base name of the input file, quoted in every generated header. */
  sourceFile: string;
  /** The one-line "generated, do not edit" notice every text file carries. */
  notice: string;
  etcd: EtcdVersion;
  ports: { client: number; peer: number; metrics: number };
  tls: { key: KeyType; caDays: number; certDays: number; renewBeforeDays: number; extraSANs: string[] };
  paths: {
    etc: string;
    data: string;
    bin: string;
    /** etcd.conf, the member's EnvironmentFile. */
    conf: string;
    /** The member's certificate directory. */
    pki: string;
    etcdBinary: string;
    unit: string;
    /**
     * An optional second EnvironmentFile of the unit, on tmpfs: the runbooks write it while a member
     * joins a running cluster (initial-cluster-state=existing) and remove it once it has joined.
     */
    joinEnv: string;
    /**
     * The bootstrap guard the unit runs before etcd starts and once it is ready (templates/bootstrap-guard.sh.hbs):
     * it refuses a start on a data dir whose WAL is gone unless a runbook joins the member or the cluster is new.
     */
    guard: string;
    /** The guard's record that etcd was ready on this host (cluster ID, member ID, time), outside the data dir. */
    bootstrapRecord: string;
    /** etcdctl on the member, which the guard asks for the cluster and member ID. */
    etcdctl: string;
    /** The data dir relative to /var/lib, for systemd's StateDirectory=; null when it is elsewhere. */
    stateDirectory: string | null;
  };
  /** Owners and modes of everything a member gets, for every way of deploying it. */
  install: MemberInstall;
  /** How user-data gets etcd onto a member (etcd.install). */
  etcdInstall: EtcdInstall;
  /** What every member's user-data installs and runs, besides its own files. */
  cloudInit: { packages: string[]; steps: CloudInitStep[] };
  /**
   * What admin/aliases.sh and admin/etcdctl.env need. Each file has shell names of its own, so that
   * sourcing one never changes what the other reads: the admin pki/ path aliases.sh keeps (`aliasesPkiVar`),
   * its function that runs etcdctl (`aliasesRunner`), and the one etcdctl.env uses while sourced (`envPkiVar`).
   */
  admin: { endpoints: string; aliasesPkiVar: string; aliasesRunner: string; envPkiVar: string };
  /** What the runbooks in runbooks/ need beyond the rest of the model. */
  runbooks: RunbookModel;
  /** For the README's summary; the settings themselves are in each member's settings. */
  security: { peerCommonName: string; compactHashCheck: boolean };
  members: MemberModel[];
  initialCluster: string;
  clientEndpoints: string[];
  /** Members needed for quorum, and how many may fail. */
  quorum: number;
  faultTolerance: number;
  /**
   * The kube-apiserver side. The files are at kubeadm's paths for an external etcd (pki/etcd/ca.crt,
   * pki/apiserver-etcd-client.{crt,key}), in an overlay of a control-plane node: `overlayDir` in out/.
   */
  kubernetes: { pkiDir: string; apiVersion: KubeadmApiVersion; caFile: string; certFile: string; keyFile: string; overlayDir: string };
  /** age encryption of private keys; null writes them in the clear (and out/.gitignore keeps them out of git). */
  age: { recipients: string[]; encryptSecrets: boolean } | null;
  /** out/monitoring/ (Prometheus scrape configuration, alert rules, Grafana dashboard); null when not enabled. */
  monitoring: MonitoringModel | null;
  /** out/backup/root/ (a backup host's timer, service and script); null when not enabled. */
  backup: BackupModel | null;
}

/**
 * The scheduled backup of out/backup/root/, an overlay for the backup host. The service runs as a
 * dynamic user (DynamicUser=, systemd.exec(5)) with its key handed over as a credential (LoadCredential=),
 * and keeps the snapshots in its state directory.
 */
export interface BackupModel {
  keep: number;
  /** systemd.time(7) OnCalendar expression. */
  onCalendar: string;
  overlayDir: string;
  /** The script the service runs, and the units, at their paths on the backup host. */
  script: string;
  serviceFile: string;
  timerFile: string;
  /** The CA bundle and the backup client certificate and key on the backup host. */
  pkiDir: string;
  /** StateDirectory= of the service: the snapshots are in /var/lib/<stateDirectory>/. */
  stateDirectory: string;
  /** A program the script runs with each new checked snapshot, when it exists (copy it elsewhere). */
  uploadHook: string;
}

/** What out/monitoring/ needs: the Prometheus job, and one scrape target per member (its client URL). */
export interface MonitoringModel {
  jobName: string;
  /** The PromQL label selector of the job, braces included: `{job="etcd"}`. */
  selector: string;
  /** host:port of each member's client URL, with the member's name as a target label. */
  targets: { member: string; address: string }[];
}

/** Facts of the target etcd release and of the members' files that the runbooks act on. */
export interface RunbookModel {
  /** The systemd unit the runbooks stop and start on a member. */
  unit: string;
  /** Whether the release has etcdutl, which takes over snapshot files from etcdctl (3.5 and later). */
  etcdutl: boolean;
  /** What checks a snapshot file and restores one: etcdctl in 3.4, etcdutl from 3.5. */
  snapshotTool: 'etcdctl' | 'etcdutl';
  /** Whether restore bumps the revision and marks it compacted, so Kubernetes' watches and caches never go back in time. */
  restoreBumpsRevision: boolean;
  /** How far a restore moves the revision forward: more than any cluster writes between snapshot and restore. */
  revisionBump: number;
  /** The runbook actions known issues of this release put at risk (src/etcd/releases.ts releaseRisks). */
  releaseRisks: { action: ReleaseRisk['action']; moveTo: string; /** The ids of the known issues, space-separated (one shell word once quoted). */ issues: string }[];
  /** The member's certificate files, as rotate-certs.sh installs them. */
  pkiFiles: { name: string; owner: string; mode: string }[];
  /** The member's etcd.conf, which rotate-certs.sh installs with the certificates (its peer CN and TLS policy go with them). */
  configFile: { path: string; owner: string; mode: string };
  /** The member's unit, which upgrade.sh installs with etcd.conf (its documentation link names the release). */
  unitFile: { path: string; owner: string; mode: string };
  /** The bootstrap guard the unit runs (templates/bootstrap-guard.sh.hbs), which upgrade.sh installs with the unit. */
  guardFile: { path: string; owner: string; mode: string };
  /** What upgrade.sh needs to move a member to this release (src/etcd/upgrade.ts). */
  upgrade: {
    /** etcd.install's route: how the binaries get onto a member. */
    installFrom: 'tarball' | 'package' | 'none';
    tarballUrl: string;
    tarballSha256: string;
    binaries: string[];
    packages: string[];
    /** The release every member must run before moving into this minor release; empty when etcd documents none. */
    minimumBefore: string;
    /** Into 3.6: the first 3.5 etcdutl whose check v2store reads the WAL too (upgrade.sh runs it on each stopped 3.5 member); '' otherwise. */
    v2storeCheckSince: string;
    v2storeGuide: string;
    /** The first minor release whose etcdctl and server have the downgrade API. */
    downgradeApiSince: number;
  };
}

export type FileRole =
  | 'readme'
  | 'runbook'
  | 'member-config'
  | 'member-unit'
  | 'member-guard'
  | 'certificate'
  | 'private-key'
  | 'cloud-init'
  | 'admin-shell'
  | 'kubeadm-config'
  | 'monitoring'
  | 'backup'
  | 'gitignore'
  /** out/expected.json: the endpoints and certificate fingerprints a running cluster should serve (etcd-gen status). */
  | 'expected-state'
  | 'manifest';

/** Owner, group and mode of a path on a member. */
export interface Ownership {
  user: string;
  group: string;
  mode: number;
  /** The mode as chmod takes it, e.g. `0600`. */
  modeText: string;
}

export interface InstallDirectory extends Ownership {
  path: string;
}

/** What a member file holds; render fills it in. */
export type MemberContent = 'config' | 'unit' | 'guard' | 'ca-cert' | 'server-cert' | 'server-key' | 'peer-cert' | 'peer-key' | 'crl';

export interface InstallFile extends Ownership {
  /** Absolute path on the member. */
  path: string;
  role: FileRole;
  content: MemberContent;
}

export interface MemberInstall {
  /** The system user and group etcd runs as. */
  user: string;
  group: string;
  directories: InstallDirectory[];
  files: InstallFile[];
  /** The files grouped by owner and mode, one chown/chmod line each in the deploy steps. */
  fileGroups: (Ownership & { paths: string[] })[];
}

export const UNIT_PATH = '/etc/systemd/system/etcd.service';
export const ETCD_USER = 'etcd';
export const JOIN_ENV_PATH = '/run/etcd-gen/join.env';
/** On the root disk, outside the sandboxed data dir: it outlives a lost data disk. */
export const BOOTSTRAP_RECORD_PATH = '/var/lib/etcd-gen/bootstrap.record';
/** etcd's documented choice for Kubernetes: far more revisions than a cluster writes between a snapshot and its restore. */
/**
 * Members that make a quorum of `members` voting members: a majority (raft; etcd's FAQ "Why an odd number
 * of cluster members?"). runbooks/lib.sh's quorum_of is the same rule, for the members it finds live.
 */
export const quorumOf = (members: number): number => Math.floor(members / 2) + 1;

export const RESTORE_REVISION_BUMP = 1_000_000_000;

/** etcd.install, resolved: exactly one of tarball, package and none is set. */
export interface EtcdInstall {
  from: InstallSource;
  /** from: tarball: where the release tarball is and its SHA-256; null otherwise. */
  tarball: { url: string; sha256: string; binaries: string[] } | null;
  /** from: package: the Debian/Ubuntu packages; null otherwise. */
  package: { names: string[] } | null;
  /** from: none: user-data does not install etcd. */
  none: boolean;
}

/** One item of runcmd: an sh script, with why it is there (a comment above it in user-data). */
export interface CloudInitStep {
  name: 'strict' | 'etcd' | 'directories' | 'start';
  why: string;
  script: string;
}

/**
 * The default common name every peer certificate shares, so peers can be restricted to it
 * (--peer-cert-allowed-cn); `tls.peerCommonName` pins another. The model's `security.peerCommonName` is the one in use.
 */
export const peerCommonName = (cluster: string): string => `${cluster}-etcd-peer`;
