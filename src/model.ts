/**
 * Stage 3, model: a valid config with every default resolved and every derived value computed once
 * (URLs, listen addresses, initial cluster, the per-version etcd settings). Pure. Renderers and the PKI
 * read only this.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DEFAULTS, type ClusterConfig, type KeyType, type KubeadmApiVersion } from './config.js';
import { memberSettings, type EtcdMinor, type EtcdSetting } from './etcd-flags.js';
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
  peerUrl: string;
  clientUrl: string;
  listenPeerUrls: string[];
  listenClientUrls: string[];
  /** Name of this member's etcdctl shell function in admin/aliases.sh. */
  etcdctlFunction: string;
  /** The member's node id in the README's Mermaid diagram. */
  diagramId: string;
  /** Where this member's overlay lives in out/, e.g. `nodes/etcd1/root`. */
  overlayDir: string;
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
  ports: { client: number; peer: number };
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
    /** The data dir relative to /var/lib, for systemd's StateDirectory=; null when it is elsewhere. */
    stateDirectory: string | null;
  };
  members: MemberModel[];
  initialCluster: string;
  clientEndpoints: string[];
  /** Members needed for quorum, and how many may fail. */
  quorum: number;
  faultTolerance: number;
  kubernetes: { pkiDir: string; apiVersion: KubeadmApiVersion; caFile: string; certFile: string; keyFile: string };
  /** age encryption of private keys; null writes them in the clear (and out/.gitignore keeps them out of git). */
  age: { recipients: string[]; encryptSecrets: boolean } | null;
}

export const UNIT_PATH = '/etc/systemd/system/etcd.service';

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

export function buildModel(config: ClusterConfig, sourceFile: string): ClusterModel {
  const ports = { ...DEFAULTS.ports, ...config.ports };
  const tls = { ...DEFAULTS.tls, ...config.tls, extraSANs: [...(config.tls?.extraSANs ?? DEFAULTS.tls.extraSANs)] };
  const base = { ...DEFAULTS.paths, ...config.paths };
  const paths = {
    ...base,
    conf: path.posix.join(base.etc, 'etcd.conf'),
    pki: path.posix.join(base.etc, 'pki'),
    etcdBinary: path.posix.join(base.bin, 'etcd'),
    unit: UNIT_PATH,
    stateDirectory: base.data.startsWith('/var/lib/') ? base.data.slice('/var/lib/'.length) : null,
  };
  const k8s = { ...DEFAULTS.kubernetes, ...config.kubernetes };
  const etcd = parseVersion(config.etcd.version);
  const token = config.token ?? deriveToken(config.name);

  const bare = config.nodes.map((node) => {
    const host = ipFamily(node.host) ? canonicalIp(node.host) : node.host;
    const ip = node.ip !== undefined ? canonicalIp(node.ip) : ipFamily(host) ? host : null;
    return {
      name: node.name,
      host,
      ip,
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
    if (m.ip !== null && !isLoopback(m.ip)) listenClientUrls.push(`https://${ipFamily(m.ip) === 6 ? '[::1]' : '127.0.0.1'}:${ports.client}`);
    const member = {
      ...m,
      listenPeerUrls,
      listenClientUrls,
      etcdctlFunction: `etcdctl_${m.name.replace(/-/g, '_')}`,
      diagramId: `member_${m.name.replace(/-/g, '_')}`,
      overlayDir: `nodes/${m.name}/root`,
    };
    return {
      ...member,
      settings: memberSettings({
        minor: etcd.minor,
        name: m.name,
        dataDir: paths.data,
        listenPeerUrls,
        listenClientUrls,
        peerUrl: m.peerUrl,
        clientUrl: m.clientUrl,
        initialCluster,
        initialClusterToken: token,
        pkiDir: paths.pki,
      }),
    };
  });

  const quorum = Math.floor(members.length / 2) + 1;
  return {
    name: config.name,
    token,
    sourceFile,
    notice: `Generated by etcd-gen from ${sourceFile} (cluster ${config.name}). Do not edit: change ${sourceFile} and run etcd-gen build again.`,
    etcd,
    ports,
    tls,
    paths,
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
    },
    age: config.age ? { recipients: [...config.age.recipients], encryptSecrets: config.age.encryptSecrets ?? DEFAULTS.age.encryptSecrets } : null,
  };
}
