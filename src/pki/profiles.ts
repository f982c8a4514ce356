/**
 * What each certificate must say, derived from the model. Pure. The profiles follow kubeadm's for etcd
 * (server and peer certificates carry serverAuth and clientAuth; the apiserver's client certificate only
 * clientAuth), but every member gets its own keys and names only its own addresses.
 */
import type { KeyType } from '../input/config.js';
import { ipFamily } from '../net.js';
import { type ClusterModel } from '../model/types.js';

export type Usage = 'serverAuth' | 'clientAuth';

export interface CertSpec {
  /** Path of the pair in the secrets dir, without extension: `ca`, `nodes/etcd1/server`, `clients/admin`. */
  id: string;
  isCa: boolean;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  usages: Usage[];
  days: number;
  keyType: KeyType;
  /** For people: what this certificate is for. */
  purpose: string;
}

export const CA_ID = 'ca';
/** During a CA rotation: the CA that will sign next (trusted already), and the one that signed before (still trusted). */
export const CA_NEXT_ID = 'ca-next';
export const CA_PREVIOUS_ID = 'ca-previous';
export const ADMIN_ID = 'clients/admin';
export const APISERVER_ID = 'clients/apiserver-etcd-client';
export const MONITORING_ID = 'clients/monitoring';
export const BACKUP_ID = 'clients/backup';
export const serverId = (member: string): string => `nodes/${member}/server`;
export const peerId = (member: string): string => `nodes/${member}/peer`;

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

function splitNames(names: Iterable<string>): { dnsNames: string[]; ipAddresses: string[] } {
  const all = [...names];
  return {
    dnsNames: sortedUnique(all.filter((n) => ipFamily(n) === 0)),
    ipAddresses: sortedUnique(all.filter((n) => ipFamily(n) !== 0)),
  };
}

export function certSpecs(model: ClusterModel): CertSpec[] {
  const keyType = model.tls.key;
  const leafDays = model.tls.certDays;
  const specs: CertSpec[] = [
    {
      id: CA_ID,
      isCa: true,
      commonName: `${model.name}-etcd-ca`,
      dnsNames: [],
      ipAddresses: [],
      usages: [],
      days: model.tls.caDays,
      keyType,
      purpose: `CA of etcd cluster ${model.name}: signs every certificate below`,
    },
  ];
  for (const m of model.members) {
    // Its own addresses, and the others it sends from: etcd checks a peer's certificate against the
    // address the connection comes from.
    const own = [m.host, ...(m.ip !== null ? [m.ip] : []), ...m.extraSANs];
    specs.push({
      id: serverId(m.name),
      isCa: false,
      commonName: m.name,
      ...splitNames([...own, 'localhost', '127.0.0.1', '::1', ...model.tls.extraSANs]),
      usages: ['serverAuth', 'clientAuth'],
      days: leafDays,
      keyType,
      purpose: `client-facing TLS of member ${m.name}`,
    });
    specs.push({
      id: peerId(m.name),
      isCa: false,
      commonName: model.security.peerCommonName,
      ...splitNames(own),
      usages: ['serverAuth', 'clientAuth'],
      days: leafDays,
      keyType,
      purpose: `peer TLS of member ${m.name}`,
    });
  }
  specs.push({
    id: ADMIN_ID,
    isCa: false,
    // etcd takes a client certificate's CN as the user when auth is on; root may change membership.
    commonName: 'root',
    dnsNames: [],
    ipAddresses: [],
    usages: ['clientAuth'],
    days: leafDays,
    keyType,
    purpose: 'etcdctl for operators (admin/)',
  });
  specs.push({
    id: APISERVER_ID,
    isCa: false,
    commonName: 'kube-apiserver-etcd-client',
    dnsNames: [],
    ipAddresses: [],
    usages: ['clientAuth'],
    days: leafDays,
    keyType,
    purpose: 'kube-apiserver to etcd (kubernetes/)',
  });
  if (model.backup) {
    specs.push({
      id: BACKUP_ID,
      isCa: false,
      commonName: 'etcd-backup',
      dnsNames: [],
      ipAddresses: [],
      usages: ['clientAuth'],
      days: leafDays,
      keyType,
      purpose: 'scheduled snapshots (backup/)',
    });
  }
  if (model.monitoring) {
    specs.push({
      id: MONITORING_ID,
      isCa: false,
      commonName: 'etcd-monitoring',
      dnsNames: [],
      ipAddresses: [],
      usages: ['clientAuth'],
      days: leafDays,
      keyType,
      purpose: 'Prometheus scraping /metrics (monitoring/)',
    });
  }
  return specs;
}
