/**
 * Which etcd server settings a member gets, per etcd minor version. Each setting is emitted as the
 * ETCD_* environment variable of its flag (etcd reads ETCD_<FLAG_IN_UPPER_SNAKE> for every flag).
 * Only flags the target version accepts are emitted; test/etcd-flags.test.ts checks them against
 * the flag lists of each release line.
 */
export type EtcdMinor = 4 | 5 | 6;

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
  minor: EtcdMinor;
  name: string;
  dataDir: string;
  listenPeerUrls: string[];
  listenClientUrls: string[];
  peerUrl: string;
  clientUrl: string;
  initialCluster: string;
  initialClusterToken: string;
  pkiDir: string;
}

export function envName(flag: string): string {
  return `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function setting(flag: string, value: string, why?: string): EtcdSetting {
  return why === undefined ? { flag, env: envName(flag), value } : { flag, env: envName(flag), value, why };
}

/** The full member configuration, in the order it is written to etcd.conf. */
export function memberSettings(m: MemberFlagInput): EtcdSetting[] {
  const settings: EtcdSetting[] = [
    setting('name', m.name),
    setting('data-dir', m.dataDir),
    setting('listen-peer-urls', m.listenPeerUrls.join(',')),
    setting('listen-client-urls', m.listenClientUrls.join(',')),
    setting('initial-advertise-peer-urls', m.peerUrl),
    setting('advertise-client-urls', m.clientUrl),
    setting('initial-cluster', m.initialCluster),
    setting('initial-cluster-state', 'new', 'Read only on first start with an empty data dir; replace-member flows set "existing".'),
    setting('initial-cluster-token', m.initialClusterToken, 'Derived from the cluster name: the same on every build, different per cluster.'),
    // Client side: TLS with client certificates, nothing automatic.
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
  ];
  if (m.minor === 4) {
    settings.push(setting('logger', 'zap', 'etcd 3.4 defaults to the deprecated capnslog logger.'));
  }
  return settings;
}
