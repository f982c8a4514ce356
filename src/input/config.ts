/**
 * The shape of a valid cluster.yaml, as the JSON Schema in schema/cluster.schema.json describes it.
 * Optional fields are optional here too; the model resolves their defaults.
 */
export type KeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';
export type KubeadmApiVersion = 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4';

/** Where cloud-init user-data gets etcd from (etcd.install). */
export type InstallSource = 'tarball' | 'package' | 'none';

export interface EtcdInstallConfig {
  from: InstallSource;
  /** Required with from: tarball (validation checks it). */
  sha256?: string;
  url?: string;
}

export interface NodeConfig {
  name: string;
  host: string;
  ip?: string;
  /** Other names and addresses of this member, for its server and peer certificates. */
  extraSANs?: string[];
}

/** etcd.tuning: etcd's size limits and raft timing; a field left out keeps etcd's default. */
export interface EtcdTuningConfig {
  quotaBackendBytes?: number;
  heartbeatIntervalMs?: number;
  electionTimeoutMs?: number;
  snapshotCount?: number;
  maxRequestBytes?: number;
}

export interface ClusterConfig {
  name: string;
  token?: string;
  etcd: { version: string; install?: EtcdInstallConfig; tuning?: EtcdTuningConfig; extraFlags?: Record<string, string | number | boolean> };
  nodes: NodeConfig[];
  ports?: { client?: number; peer?: number; metrics?: number };
  tls?: { key?: KeyType; caDays?: number; certDays?: number; renewBeforeDays?: number; peerCommonName?: string; extraSANs?: string[] };
  paths?: { etc?: string; data?: string; bin?: string };
  kubernetes?: { pkiDir?: string; kubeadmApiVersion?: KubeadmApiVersion };
  backup?: { enabled?: boolean; keep?: number; onCalendar?: string };
  monitoring?: { enabled?: boolean; jobName?: string };
  age?: { recipients: string[]; encryptSecrets?: boolean };
}

/** Defaults, resolved in one place; a test checks they equal the schema's `default` values. */
export const DEFAULTS = {
  etcd: { install: { from: 'none' } as EtcdInstallConfig },
  /** Per member (nodes[]). */
  nodes: { extraSANs: [] as string[] },
  ports: { client: 2379, peer: 2380, metrics: 2381 },
  tls: { key: 'ecdsa-p256' as KeyType, caDays: 3650, certDays: 365, renewBeforeDays: 30, extraSANs: [] as string[] },
  paths: { etc: '/etc/etcd', data: '/var/lib/etcd', bin: '/usr/local/bin' },
  kubernetes: { pkiDir: '/etc/kubernetes/pki', kubeadmApiVersion: 'kubeadm.k8s.io/v1beta4' as KubeadmApiVersion },
  backup: { enabled: false, keep: 7, onCalendar: 'daily' },
  monitoring: { enabled: false, jobName: 'etcd' },
  age: { encryptSecrets: false },
} as const;
