/**
 * The shape of a valid cluster.yaml: the type json-schema-to-typescript generates from
 * schema/cluster.schema.json (src/input/cluster-schema.generated.ts, npm run schema:types), and names for
 * its parts. Optional fields are optional here too; the model resolves their defaults.
 */
import type { EtcdGenClusterYaml } from './cluster-schema.generated.js';

export type ClusterConfig = EtcdGenClusterYaml;
export type NodeConfig = ClusterConfig['nodes'][number];
/** etcd.install: where cloud-init user-data gets etcd from. */
export type EtcdInstallConfig = NonNullable<ClusterConfig['etcd']['install']>;
export type InstallSource = EtcdInstallConfig['from'];
/** etcd.tuning: etcd's size limits and raft timing; a field left out keeps etcd's default. */
export type EtcdTuningConfig = NonNullable<ClusterConfig['etcd']['tuning']>;
export type KeyType = NonNullable<NonNullable<ClusterConfig['tls']>['key']>;
export type KubeadmApiVersion = NonNullable<NonNullable<ClusterConfig['kubernetes']>['kubeadmApiVersion']>;

/** Defaults, resolved in one place; a test checks they equal the schema's `default` values. */
export const DEFAULTS = {
  etcd: { install: { from: 'none' } as EtcdInstallConfig },
  /** Per member (nodes[]). */
  nodes: { extraSANs: [] as string[] },
  ports: { client: 2379, peer: 2380, metrics: 2381 },
  tls: { key: 'ecdsa-p256' as KeyType, caDays: 3650, certDays: 365, renewBeforeDays: 30, extraSANs: [] as string[] },
  paths: { etc: '/etc/etcd', data: '/var/lib/etcd', bin: '/usr/local/bin' },
  kubernetes: { version: '1.37' as const, pkiDir: '/etc/kubernetes/pki', kubeadmApiVersion: 'kubeadm.k8s.io/v1beta4' as KubeadmApiVersion },
  backup: { enabled: false, keep: 7, onCalendar: 'daily' },
  monitoring: { enabled: false, jobName: 'etcd' },
  age: { encryptSecrets: false },
} as const;
