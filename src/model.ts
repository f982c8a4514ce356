/**
 * Stage 3, model: a valid config with every default resolved and every derived value computed once
 * (URLs, listen addresses, initial cluster, the per-version etcd settings). Pure. Renderers and the PKI
 * read only this.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DEFAULTS, type ClusterConfig, type KeyType, type KubeadmApiVersion } from './config.js';
import { cloudInitPackages, cloudInitSteps, resolveEtcdInstall, type CloudInitStep, type EtcdInstall } from './cloudinit.js';
import { DOWNGRADE_API_SINCE_MINOR, minorMinimum } from './upgrade.js';
import { hasCompactHashCheck, hasEtcdutl, hasRestoreRevisionBump, memberSettings, type EtcdMinor, type EtcdSetting } from './etcd-flags.js';
import { peerCommonName } from './pki/profiles.js';
import { shellName } from './shell.js';
import { canonicalIp, ipFamily } from './validate.js';

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
  /** The member's certificate files, as rotate-certs.sh installs them. */
  pkiFiles: { name: string; owner: string; mode: string }[];
  /** The member's etcd.conf, which rotate-certs.sh installs with the certificates (its peer CN and TLS policy go with them). */
  configFile: { path: string; owner: string; mode: string };
  /** The member's unit, which upgrade.sh installs with etcd.conf (its documentation link names the release). */
  unitFile: { path: string; owner: string; mode: string };
  /** What upgrade.sh needs to move a member to this release (src/upgrade.ts). */
  upgrade: {
    /** etcd.install's route: how the binaries get onto a member. */
    installFrom: 'tarball' | 'package' | 'none';
    tarballUrl: string;
    tarballSha256: string;
    binaries: string[];
    packages: string[];
    /** The release every member must run before moving into this minor release; empty when etcd documents none. */
    minimumBefore: string;
    /** The first minor release whose etcdctl and server have the downgrade API. */
    downgradeApiSince: number;
  };
}

export type FileRole =
  | 'readme'
  | 'runbook'
  | 'member-config'
  | 'member-unit'
  | 'certificate'
  | 'private-key'
  | 'cloud-init'
  | 'admin-shell'
  | 'kubeadm-config'
  | 'monitoring'
  | 'backup'
  | 'gitignore'
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
export type MemberContent = 'config' | 'unit' | 'ca-cert' | 'server-cert' | 'server-key' | 'peer-cert' | 'peer-key' | 'crl';

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
/** etcd's documented choice for Kubernetes: far more revisions than a cluster writes between a snapshot and its restore. */
export const RESTORE_REVISION_BUMP = 1_000_000_000;

function memberFileOf(install: MemberInstall, content: 'config' | 'unit'): RunbookModel['configFile'] {
  const file = install.files.find((f) => f.content === content);
  if (!file) throw new Error(`no ${content} file among the member files`);
  return { path: file.path, owner: `${file.user}:${file.group}`, mode: file.modeText };
}

function ownership(user: string, group: string, mode: number): Ownership {
  return { user, group, mode, modeText: `0${mode.toString(8)}` };
}

/**
 * Owners and modes on a member: the keys are etcd's alone; the env file is read by systemd, so root's
 * alone; certificates and the unit are public. The config directories let etcd in through its group.
 */
function memberInstall(paths: { etc: string; pki: string; data: string; conf: string; unit: string; crl: string }, withCrl: boolean): MemberInstall {
  const rootOnly = ownership('root', 'root', 0o600);
  const world = ownership('root', 'root', 0o644);
  const etcdOnly = ownership(ETCD_USER, ETCD_USER, 0o600);
  const files: InstallFile[] = [
    { path: paths.conf, role: 'member-config', content: 'config', ...rootOnly },
    { path: paths.unit, role: 'member-unit', content: 'unit', ...world },
    { path: `${paths.pki}/ca.crt`, role: 'certificate', content: 'ca-cert', ...world },
    { path: `${paths.pki}/server.crt`, role: 'certificate', content: 'server-cert', ...world },
    { path: `${paths.pki}/peer.crt`, role: 'certificate', content: 'peer-cert', ...world },
    { path: `${paths.pki}/server.key`, role: 'private-key', content: 'server-key', ...etcdOnly },
    { path: `${paths.pki}/peer.key`, role: 'private-key', content: 'peer-key', ...etcdOnly },
    ...(withCrl ? [{ path: paths.crl, role: 'certificate' as const, content: 'crl' as const, ...world }] : []),
  ];
  const groups = new Map<string, Ownership & { paths: string[] }>();
  for (const f of files) {
    const key = `${f.user}:${f.group}:${f.modeText}`;
    const group = groups.get(key) ?? { ...ownership(f.user, f.group, f.mode), paths: [] };
    group.paths.push(f.path);
    groups.set(key, group);
  }
  return {
    user: ETCD_USER,
    group: ETCD_USER,
    directories: [
      { path: paths.etc, ...ownership('root', ETCD_USER, 0o750) },
      { path: paths.pki, ...ownership('root', ETCD_USER, 0o750) },
      { path: paths.data, ...ownership(ETCD_USER, ETCD_USER, 0o700) },
    ],
    files,
    fileGroups: [...groups.values()],
  };
}

/**
 * Escapes control characters (newline, NUL, escape…) in every string as \uXXXX, so no value can start a
 * line of its own in a generated file. Validation refuses them already; this is the second line of defence.
 */
export function escapeControlCharacters<T>(value: T): T {
  if (typeof value === 'string') {
    return value.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => escapeControlCharacters(v)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeControlCharacters(v)])) as T;
  }
  return value;
}

/** Host part of a URL: IPv6 in brackets. */
export function urlHost(host: string): string {
  return ipFamily(host) === 6 ? `[${host}]` : host;
}

export function isLoopback(ip: string): boolean {
  return ip === '::1' || (ipFamily(ip) === 4 && ip.startsWith('127.'));
}

/** The initial cluster token: stable for a cluster name, different between clusters. */
export function deriveToken(name: string): string {
  return `${name}-${createHash('sha256').update(`etcd-gen/${name}`).digest('hex').slice(0, 8)}`;
}

function parseVersion(text: string): EtcdVersion {
  const [, minor, patch] = /^3\.(\d+)\.(\d+)$/.exec(text) ?? [];
  return { text, minor: Number(minor) as EtcdMinor, patch: Number(patch) };
}

/** What the model needs from the secrets directory: whether the CA has revoked anything (src/pki/crl.ts). */
export interface ModelSecrets {
  crl: boolean;
}

export function buildModel(input: ClusterConfig, inputFile: string, secrets: ModelSecrets = { crl: false }): ClusterModel {
  const config = escapeControlCharacters(input);
  const sourceFile = escapeControlCharacters(inputFile);
  const ports = { ...DEFAULTS.ports, ...config.ports };
  // IPs in their canonical text: one spelling per address in URLs and certificates (::ffff:10.0.0.1 is 10.0.0.1).
  const canonicalSans = (sans: readonly string[]): string[] => [...new Set(sans.map((san) => (ipFamily(san) ? canonicalIp(san) : san)))];
  const extraSANs = canonicalSans(config.tls?.extraSANs ?? DEFAULTS.tls.extraSANs);
  const tls = { ...DEFAULTS.tls, ...config.tls, extraSANs };
  const base = { ...DEFAULTS.paths, ...config.paths };
  const paths = {
    ...base,
    conf: path.posix.join(base.etc, 'etcd.conf'),
    pki: path.posix.join(base.etc, 'pki'),
    etcdBinary: path.posix.join(base.bin, 'etcd'),
    crl: path.posix.join(base.etc, 'pki', 'ca.crl'),
    unit: UNIT_PATH,
    joinEnv: JOIN_ENV_PATH,
    stateDirectory: base.data.startsWith('/var/lib/') ? base.data.slice('/var/lib/'.length) : null,
  };
  const k8s = { ...DEFAULTS.kubernetes, ...config.kubernetes };
  const etcd = parseVersion(config.etcd.version);
  const token = config.token ?? deriveToken(config.name);
  // The CN members accept from peers: pinned in tls.peerCommonName, else derived from the name.
  const peerCn = config.tls?.peerCommonName ?? peerCommonName(config.name);

  const bare = config.nodes.map((node) => {
    const host = ipFamily(node.host) ? canonicalIp(node.host) : node.host;
    const ip = node.ip !== undefined ? canonicalIp(node.ip) : ipFamily(host) ? host : null;
    return {
      name: node.name,
      host,
      ip,
      extraSANs: canonicalSans(node.extraSANs ?? DEFAULTS.nodes.extraSANs),
      peerUrl: `https://${urlHost(host)}:${ports.peer}`,
      clientUrl: `https://${urlHost(host)}:${ports.client}`,
    };
  });
  const initialCluster = bare.map((m) => `${m.name}=${m.peerUrl}`).join(',');

  const members: MemberModel[] = bare.map((m) => {
    // etcd cannot listen on a name: bind the member's IP, or every IPv4 interface when none is known.
    const bind = m.ip !== null ? urlHost(m.ip) : '0.0.0.0';
    const listenPeerUrls = [`https://${bind}:${ports.peer}`];
    const listenClientUrls = [`https://${bind}:${ports.client}`];
    // Local tools on the member reach it on loopback too, of the member's own IP family (its server
    // certificate names 127.0.0.1 and ::1).
    const loopback = m.ip !== null && ipFamily(m.ip) === 6 ? '::1' : '127.0.0.1';
    if (m.ip !== null && !isLoopback(m.ip)) listenClientUrls.push(`https://${urlHost(loopback)}:${ports.client}`);
    // A member on loopback (a test cluster on 127.0.0.1-3) keeps its own address, so members never collide.
    const listenMetricsUrl = `http://${urlHost(m.ip !== null && isLoopback(m.ip) ? m.ip : loopback)}:${ports.metrics}`;
    const member = {
      ...m,
      listenPeerUrls,
      listenClientUrls,
      listenMetricsUrl,
      etcdctlFunction: shellName('etcdctl_', m.name),
      diagramId: shellName('member_', m.name),
      overlayDir: `nodes/${m.name}/root`,
      userDataPath: `nodes/${m.name}/user-data.yaml`,
    };
    return {
      ...member,
      settings: memberSettings({
        release: etcd,
        name: m.name,
        dataDir: paths.data,
        listenPeerUrls,
        listenClientUrls,
        listenMetricsUrl,
        peerCommonName: peerCn,
        peerUrl: m.peerUrl,
        clientUrl: m.clientUrl,
        initialCluster,
        initialClusterToken: token,
        tokenGiven: config.token !== undefined,
        crlFile: secrets.crl ? paths.crl : null,
        pkiDir: paths.pki,
        ...(config.etcd.tuning ? { tuning: config.etcd.tuning } : {}),
        ...(config.etcd.extraFlags ? { extraFlags: config.etcd.extraFlags } : {}),
      }),
    };
  });

  const quorum = Math.floor(members.length / 2) + 1;
  const install = memberInstall(paths, secrets.crl);
  const etcdInstall = resolveEtcdInstall(config.etcd.install ?? DEFAULTS.etcd.install, etcd);
  const runbooks: RunbookModel = {
    unit: path.posix.basename(UNIT_PATH, '.service'),
    etcdutl: hasEtcdutl(etcd),
    snapshotTool: hasEtcdutl(etcd) ? 'etcdutl' : 'etcdctl',
    restoreBumpsRevision: hasRestoreRevisionBump(etcd),
    revisionBump: RESTORE_REVISION_BUMP,
    pkiFiles: install.files
      .filter((f) => path.posix.dirname(f.path) === paths.pki)
      .map((f) => ({ name: path.posix.basename(f.path), owner: `${f.user}:${f.group}`, mode: f.modeText })),
    configFile: memberFileOf(install, 'config'),
    unitFile: memberFileOf(install, 'unit'),
    upgrade: {
      installFrom: etcdInstall.from,
      tarballUrl: etcdInstall.tarball?.url ?? '',
      tarballSha256: etcdInstall.tarball?.sha256 ?? '',
      binaries: ['etcd', 'etcdctl', ...(hasEtcdutl(etcd) ? ['etcdutl'] : [])],
      packages: etcdInstall.package?.names ?? [],
      minimumBefore: minorMinimum(etcd.minor)?.minimum ?? '',
      downgradeApiSince: DOWNGRADE_API_SINCE_MINOR,
    },
  };
  return {
    name: config.name,
    token,
    sourceFile,
    notice: `Generated by etcd-gen from ${sourceFile} (cluster ${config.name}). Do not edit: change ${sourceFile} and run etcd-gen build again.`,
    etcd,
    ports,
    tls,
    paths,
    install,
    runbooks,
    etcdInstall,
    cloudInit: { packages: cloudInitPackages(etcdInstall), steps: cloudInitSteps(etcdInstall, etcd, paths.bin, install) },
    admin: {
      endpoints: members.map((m) => m.clientUrl).join(','),
      aliasesPkiVar: shellName('_etcd_gen_aliases_pki_', config.name),
      aliasesRunner: shellName('_etcd_gen_aliases_etcdctl_', config.name),
      envPkiVar: shellName('_etcd_gen_env_pki_', config.name),
    },
    security: { peerCommonName: peerCn, compactHashCheck: hasCompactHashCheck(etcd) },
    members,
    initialCluster,
    clientEndpoints: members.map((m) => m.clientUrl),
    quorum,
    faultTolerance: members.length - quorum,
    kubernetes: {
      pkiDir: k8s.pkiDir,
      apiVersion: k8s.kubeadmApiVersion,
      caFile: path.posix.join(k8s.pkiDir, 'etcd', 'ca.crt'),
      certFile: path.posix.join(k8s.pkiDir, 'apiserver-etcd-client.crt'),
      keyFile: path.posix.join(k8s.pkiDir, 'apiserver-etcd-client.key'),
      overlayDir: 'kubernetes/root',
    },
    age: config.age ? { recipients: [...config.age.recipients], encryptSecrets: config.age.encryptSecrets ?? DEFAULTS.age.encryptSecrets } : null,
    backup: (config.backup?.enabled ?? DEFAULTS.backup.enabled)
      ? {
          keep: config.backup?.keep ?? DEFAULTS.backup.keep,
          onCalendar: config.backup?.onCalendar ?? DEFAULTS.backup.onCalendar,
          overlayDir: 'backup/root',
          script: '/usr/local/sbin/etcd-backup',
          serviceFile: '/etc/systemd/system/etcd-backup.service',
          timerFile: '/etc/systemd/system/etcd-backup.timer',
          pkiDir: '/etc/etcd-backup/pki',
          stateDirectory: 'etcd-backup',
          uploadHook: '/etc/etcd-backup/upload',
        }
      : null,
    monitoring:
      (config.monitoring?.enabled ?? DEFAULTS.monitoring.enabled)
        ? monitoringModel(config.monitoring?.jobName ?? DEFAULTS.monitoring.jobName, members)
        : null,
  };
}

/** out/monitoring/'s facts: the job, its selector, and each member's client URL as host:port (IPv6 in brackets). */
function monitoringModel(jobName: string, members: readonly { name: string; clientUrl: string }[]): MonitoringModel {
  return { jobName, selector: `{job=${JSON.stringify(jobName)}}`, targets: members.map((m) => ({ member: m.name, address: new URL(m.clientUrl).host })) };
}
