/**
 * Stage 3, model: a valid config with every default resolved and every derived value computed once
 * (URLs, listen addresses, initial cluster, the per-version etcd settings). Pure. Renderers and the PKI
 * read only this.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DEFAULTS, type ClusterConfig } from '../input/config.js';
import { cloudInitPackages, cloudInitSteps, resolveEtcdInstall } from './install.js';
import { DOWNGRADE_API_SINCE_MINOR, minorMinimum, V2_GUIDE, V2STORE_CHECK_SINCE } from '../etcd/upgrade.js';
import { releaseRisks } from '../etcd/releases.js';
import { hasCompactHashCheck, hasEtcdutl, hasRestoreRevisionBump, memberSettings, type EtcdMinor } from '../etcd/flags.js';
import { shellName } from '../shell.js';
import { canonicalIp, ipFamily, isLoopback, urlHost } from '../net.js';
import {
  ETCD_USER,
  BOOTSTRAP_RECORD_PATH,
  JOIN_ENV_PATH,
  peerCommonName,
  quorumOf,
  RESTORE_REVISION_BUMP,
  UNIT_PATH,
  type ClusterModel,
  type EtcdVersion,
  type InstallFile,
  type MemberInstall,
  type MemberModel,
  type MonitoringModel,
  type Ownership,
  type RunbookModel,
} from './types.js';

function memberFileOf(install: MemberInstall, content: 'config' | 'unit' | 'guard'): RunbookModel['configFile'] {
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
function memberInstall(paths: { etc: string; pki: string; data: string; conf: string; unit: string; crl: string; guard: string }, withCrl: boolean): MemberInstall {
  const rootOnly = ownership('root', 'root', 0o600);
  const world = ownership('root', 'root', 0o644);
  const etcdOnly = ownership(ETCD_USER, ETCD_USER, 0o600);
  const files: InstallFile[] = [
    { path: paths.conf, role: 'member-config', content: 'config', ...rootOnly },
    { path: paths.unit, role: 'member-unit', content: 'unit', ...world },
    { path: paths.guard, role: 'member-guard', content: 'guard', ...ownership('root', 'root', 0o755) },
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
    guard: path.posix.join(base.etc, 'bootstrap-guard.sh'),
    bootstrapRecord: BOOTSTRAP_RECORD_PATH,
    etcdctl: path.posix.join(base.bin, 'etcdctl'),
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

  const quorum = quorumOf(members.length);
  const install = memberInstall(paths, secrets.crl);
  const etcdInstall = resolveEtcdInstall(config.etcd.install ?? DEFAULTS.etcd.install, etcd);
  const runbooks: RunbookModel = {
    unit: path.posix.basename(UNIT_PATH, '.service'),
    etcdutl: hasEtcdutl(etcd),
    snapshotTool: hasEtcdutl(etcd) ? 'etcdutl' : 'etcdctl',
    restoreBumpsRevision: hasRestoreRevisionBump(etcd),
    revisionBump: RESTORE_REVISION_BUMP,
    releaseRisks: releaseRisks(etcd, config.kubernetes?.version ?? DEFAULTS.kubernetes.version).map((r) => ({ ...r, issues: r.issues.join(' ') })),
    pkiFiles: install.files
      .filter((f) => path.posix.dirname(f.path) === paths.pki)
      .map((f) => ({ name: path.posix.basename(f.path), owner: `${f.user}:${f.group}`, mode: f.modeText })),
    configFile: memberFileOf(install, 'config'),
    unitFile: memberFileOf(install, 'unit'),
    guardFile: memberFileOf(install, 'guard'),
    upgrade: {
      installFrom: etcdInstall.from,
      tarballUrl: etcdInstall.tarball?.url ?? '',
      tarballSha256: etcdInstall.tarball?.sha256 ?? '',
      binaries: ['etcd', 'etcdctl', ...(hasEtcdutl(etcd) ? ['etcdutl'] : [])],
      packages: etcdInstall.package?.names ?? [],
      minimumBefore: minorMinimum(etcd.minor)?.minimum ?? '',
      v2storeCheckSince: etcd.minor === 6 ? V2STORE_CHECK_SINCE : '',
      v2storeGuide: V2_GUIDE,
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
