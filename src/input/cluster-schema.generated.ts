/* Generated from schema/cluster.schema.json by scripts/schema-types.ts (npm run schema:types): do not edit. */

/**
 * One external etcd cluster for Kubernetes: its members, versions, TLS policy and install paths. etcd-gen compiles it into PKI, member configs, systemd units and admin tools.
 */
export interface EtcdGenClusterYaml {
  /**
   * Cluster name, a DNS label. Names the CA and derives the initial cluster token.
   */
  name: string;
  /**
   * Initial cluster token. Default: derived from the cluster name, so every build gives the same token. etcd reads it only when the cluster is first created; a running cluster keeps its own, so a build refuses to change it.
   */
  token?: string;
  /**
   * The etcd release the members run. Its minor version decides which flags are emitted.
   */
  etcd: {
    /**
     * etcd version, 3.4.x, 3.5.x, 3.6.x or 3.7.x, quoted so YAML keeps it a string. A patch newer than the newest etcd-gen knows of its line builds with a warning (checked as that newest patch); end-of-life lines and releases with known defects get a warning.
     */
    version: string;
    /**
     * How each member's cloud-init user-data (nodes/<name>/user-data.yaml) installs etcd: from the release tarball, checked against sha256 before it is unpacked; from the Debian/Ubuntu packages; or not at all (none: etcd must already be in paths.bin).
     */
    install?: {
      /**
       * tarball: the release tarball from url, checked against sha256. package: apt-get install etcd-server etcd-client, which install to /usr/bin (paths.bin must be /usr/bin, and the distribution's etcd must be etcd.version). none: user-data does not install etcd.
       */
      from: 'tarball' | 'package' | 'none';
      /**
       * SHA-256 of the release tarball, as etcd's SHA256SUMS release asset lists it; checked before the tarball is unpacked. Required with from: tarball.
       */
      sha256?: string;
      /**
       * Where the tarball is downloaded from, such as a mirror; it must hold one top-level directory with etcd and etcdctl (and etcdutl from 3.5), as etcd's release tarballs do. Default: https://github.com/etcd-io/etcd/releases/download/v<version>/etcd-v<version>-linux-amd64.tar.gz.
       */
      url?: string;
    };
    /**
     * etcd's size limits and raft timing. A field left out keeps etcd's own default for the release (and nothing is written for it). Changing one on a running cluster: build, then runbooks/rotate-certs.sh restarts each member in turn with the new values.
     */
    tuning?: {
      /**
       * Size limit of each member's database, in bytes (--quota-backend-bytes). At the limit etcd raises the NOSPACE alarm and takes only reads and deletes. etcd's default: 2147483648 (2 GiB); etcd suggests at most 8 GiB (8589934592), and a larger one warns.
       */
      quotaBackendBytes?: number;
      /**
       * How often the leader sends heartbeats, in milliseconds (--heartbeat-interval). etcd's tuning guide: about the round trip time between members. etcd's default: 100.
       */
      heartbeatIntervalMs?: number;
      /**
       * How long a follower waits without a heartbeat before it calls an election, in milliseconds (--election-timeout). etcd requires at least 5 times the heartbeat interval and at most 50000; its tuning guide suggests about 10 times the round trip time. etcd's default: 1000.
       */
      electionTimeoutMs?: number;
      /**
       * Committed transactions between two raft snapshots on disk (--snapshot-count). etcd's default: 100000 up to 3.5, 10000 from 3.6.
       */
      snapshotCount?: number;
      /**
       * Largest request a client may send, in bytes (--max-request-bytes). etcd's default: 1572864 (1.5 MiB); etcd warns above 10 MiB (10485760), and so does a build.
       */
      maxRequestBytes?: number;
    };
    /**
     * Any other etcd server flag of the release, by its name without dashes, and its value: written to etcd.conf as the flag's ETCD_* variable. A flag the release does not have is refused with the closest one it has; a value etcd would not parse for its flag (true or false, a whole number, a duration such as 5s) is refused with what the flag takes (not on 3.4); flags etcd-gen sets (names, URLs, TLS files, certificate checks, the TLS policy) and flags that would undo its security settings are refused with the reason. Use etcd.tuning for the limits and timeouts it names.
     */
    extraFlags?: {
      [k: string]: string | number | boolean;
    };
  };
  /**
   * The members, in order. Names and hosts are unique.
   *
   * @minItems 1
   * @maxItems 15
   */
  nodes: {
    /**
     * Member name, a DNS label or a DNS name (k8s1-etcd1.k8s.lan, as clusters built by hand often name members): etcd member name and output directory name.
     */
    name: string;
    /**
     * DNS name or IP address that peers and clients use to reach this member.
     */
    host: string;
    /**
     * The member's IP address. etcd listens on it (etcd cannot listen on a name) and certificates name it. Default: host, when host is an IP; otherwise all interfaces.
     */
    ip?: string;
    /**
     * Other DNS names and IP addresses of this member, added to its own server and peer certificates. etcd checks a peer's certificate against the address its connection comes from: list the addresses a member with two interfaces, or behind NAT, sends from, so that its peers accept it.
     *
     * @maxItems 16
     */
    extraSANs?: string[];
  }[];
  ports?: {
    /**
     * Client port (etcdctl, kube-apiserver).
     */
    client?: number;
    /**
     * Peer port (member to member).
     */
    peer?: number;
    /**
     * Port of the plain-HTTP /metrics and /health listener, on the member's loopback address only (kubeadm's etcd uses 2381).
     */
    metrics?: number;
  };
  tls?: {
    /**
     * Key type of the CA and every certificate.
     */
    key?: 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';
    /**
     * Validity of a new CA, in days.
     */
    caDays?: number;
    /**
     * Validity of a new leaf certificate, in days. At most caDays.
     */
    certDays?: number;
    /**
     * A leaf certificate this close to expiry is reissued by the next build. Less than certDays.
     */
    renewBeforeDays?: number;
    /**
     * CN of every member's peer certificate, the one CN members accept from peers (--peer-cert-allowed-cn). Default: <name>-etcd-peer. A running cluster keeps the CN it was built with: pin it here to rename the cluster.
     */
    peerCommonName?: string;
    /**
     * Extra DNS names or IPs added to every member's server certificate, such as a client load balancer.
     *
     * @maxItems 64
     */
    extraSANs?: string[];
  };
  /**
   * Where files go on the members.
   */
  paths?: {
    /**
     * Holds etcd.conf and pki/; a directory of etcd's own (the deploy steps set its owner and mode).
     */
    etc?: string;
    /**
     * The member's data directory; a directory of etcd's own (the deploy steps make it etcd's, mode 0700).
     */
    data?: string;
    /**
     * Directory holding the etcd binary.
     */
    bin?: string;
  };
  /**
   * The kube-apiserver side: where kubeadm expects the etcd client certificate.
   */
  kubernetes?: {
    /**
     * kubeadm's certificate directory on control-plane nodes.
     */
    pkiDir?: string;
    /**
     * apiVersion of the emitted ClusterConfiguration: v1beta4 (kubeadm 1.31+, the current one) or v1beta3 (kubeadm 1.22+).
     */
    kubeadmApiVersion?: 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4';
  };
  /**
   * Scheduled, checked snapshots: out/backup/root/ is an overlay for a backup host (a member, or any host that reaches the client URLs): a systemd timer and service that take a snapshot from the first member that answers, check it (snapshot status and SHA-256), keep the newest ones, set apart any that no longer match their SHA-256, and hand each new one to /etc/etcd-backup/upload when that program exists. runbooks/restore.sh takes the files as they are.
   */
  backup?: {
    /**
     * Write out/backup/. Its client certificate is one of this CA's: etcd lets it read and write every key, so keep the backup host's key as safe as the snapshots.
     */
    enabled?: boolean;
    /**
     * How many checked snapshots to keep; older ones are deleted after a new one is checked.
     */
    keep?: number;
    /**
     * When the timer fires, as systemd.time(7) OnCalendar takes it (daily, hourly, *-*-* 02:30:00, Mon..Fri *-*-* 01:00:00). A missed run (the host was off) runs at the next boot.
     */
    onCalendar?: string;
  };
  /**
   * Monitoring with Prometheus: out/monitoring/ gets a client certificate for scraping, a Prometheus configuration that scrapes every member's /metrics on its client URL over mTLS, alert rules and a Grafana dashboard.
   */
  monitoring?: {
    /**
     * Write out/monitoring/. Its client certificate is one of this CA's: etcd lets it read and write every key (as kubeadm's health-check certificate can), so keep its key on the Prometheus server alone.
     */
    enabled?: boolean;
    /**
     * The Prometheus job of the scrape configuration, which the alert rules and the dashboard select on.
     */
    jobName?: string;
  };
  /**
   * age encryption of private keys, so the whole output can be committed. Only the holders of the matching identities can decrypt.
   */
  age?: {
    /**
     * age X25519 recipients (age1...): every private key in the output is written encrypted to all of them, as <file>.age.
     *
     * @minItems 1
     * @maxItems 32
     */
    recipients: string[];
    /**
     * Keep the private keys in the secrets directory age-encrypted too; builds then need the identity (--identity FILE or ETCD_GEN_AGE_IDENTITY).
     */
    encryptSecrets?: boolean;
  };
}
