/**
 * Every message etcd-gen says about its input, in one place: the problem, then how to fix it.
 */
import type { FlagValueProblem } from './etcd/flag-values.js';
import type { EtcdFlagKind } from './resources.js';

const iso = (d: Date): string => d.toISOString().slice(0, 10);

export const messages = {
  // load
  notAFile: 'not a regular file: pass the path of a cluster.yaml',
  cannotRead: (code: string) => `cannot read the file (${code}): check the path and permissions`,
  tooLarge: (size: number, max: number) => `file is ${size} bytes, more than the ${max} a cluster.yaml may have: is this the right file?`,
  emptyDocument: 'the file holds no YAML document: start from examples/*/cluster.yaml',
  multipleDocuments: "the file holds more than one YAML document: keep one, without '---' separators between clusters",
  yamlSyntax: (reason: string) => `YAML syntax error: ${reason}`,

  // schema
  required: (field: string) => `missing required field "${field}": add it`,
  unknownField: (field: string, suggestion: string | null, known: readonly string[]) =>
    `unknown field "${field}": ${suggestion ? `did you mean "${suggestion}"?` : `remove it (known fields: ${known.join(', ')})`}`,
  wrongType: (expected: string, got: string) =>
    `must be ${article(expected)} ${expected}, not ${got === 'null' ? 'null' : `${article(got)} ${got}`}${expected === 'string' ? ': quote the value' : ''}` +
    (expected === 'mapping' && got === 'null' ? ': indent its fields under it (two spaces more than the key), or remove the key' : ''),
  notInEnum: (allowed: readonly unknown[]) => `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
  outOfRange: (min: number | undefined, max: number | undefined) =>
    min !== undefined && max !== undefined ? `must be from ${min} to ${max}` : min !== undefined ? `must be at least ${min}` : `must be at most ${max}`,
  tooShort: (min: number, what: string) => `needs at least ${min} ${what}`,
  tooLong: (max: number, what: string) => `may have at most ${max} ${what}`,
  badPattern: (fix: string) => `invalid value: ${fix}`,
  duplicateItem: 'lists the same value twice: remove the duplicate',

  // semantics
  duplicateNodeName: (name: string, line: number) => `node name "${name}" is already used on line ${line}: names must be unique`,
  shellNameClash: (name: string, line: number, shell: string) =>
    `node name "${name}" and the name on line ${line} differ only in '.' and '-', and both give the shell name etcdctl_${shell}: rename one`,
  duplicateAddress: (addr: string, line: number) => `address "${addr}" is already used on line ${line}: each member needs its own host and IP`,
  badHost: (host: string) => `"${host}" is neither a DNS name nor an IP address: use a name such as k8s1-etcd1.example.lan or an IP such as 10.0.0.11`,
  upperCaseHost: (host: string) => `"${host}" has upper-case letters: write it in lower case (${host.toLowerCase()}), as certificates and URLs compare it`,
  zonedIp: 'IPv6 zone indexes (%eth0) cannot be used in URLs or certificates: use a global or unique-local address',
  badIp: (ip: string) => `"${ip}" is not an IP address: use an IPv4 or IPv6 address such as 10.0.0.11 or fd00::11`,
  unspecifiedIp: 'the unspecified address cannot name a member: use the address peers reach it at',
  hostIpMismatch: (host: string, ip: string) => `host is the IP ${host} but ip is ${ip}: drop ip or make them the same`,
  samePorts: (a: string, b: string, port: number) => `${a} and ${b} ports are both ${port}: give them different ports`,
  pathNotNormal: (p: string, normal: string) => `"${p}" is not a normalized absolute path: write it as ${normal}`,
  pathRoot: 'must not be / itself: name a directory for etcd',
  pathShared: (p: string) =>
    `"${p}" is a directory other software shares, and deploying makes this one etcd's (owner and mode): use a directory of etcd's own, such as ${p === '/var/lib' ? '/var/lib/etcd' : `${p}/etcd`}`,
  pathHiddenBySandbox: (p: string, dir: string, how: string) =>
    `"${p}" is under ${dir}, which the etcd unit's sandbox ${how}: use a path such as /etc/etcd, /var/lib/etcd or /usr/local/bin`,
  pathsOverlap: (a: string, b: string) => `paths.${a} and paths.${b} overlap: keep the data directory apart from the config directory`,
  certOutlivesCa: (certDays: number, caDays: number) => `certDays (${certDays}) is longer than caDays (${caDays}): a certificate cannot outlive its CA; lower certDays`,
  renewAfterExpiry: (renew: number, certDays: number) => `renewBeforeDays (${renew}) must be less than certDays (${certDays}), or every build would reissue every certificate`,
  tarballNeedsSha256: 'from: tarball needs the tarball\'s sha256, checked before it is unpacked: add sha256 from the release\'s SHA256SUMS asset',
  onlyForTarball: (field: string, from: string) => `${field} is only used with from: tarball, not from: ${from}: remove it`,
  packageNeedsUsrBin: (bin: string) =>
    `the etcd-server package installs etcd in /usr/bin, but paths.bin is ${bin}: set paths.bin to /usr/bin, or install from: tarball`,
  badSan: (san: string) => `"${san}" is neither a DNS name nor an IP address`,
  duplicateSan: (san: string, same: string, line: number) =>
    `"${san}" is ${same === san ? 'listed' : `the address ${same}, listed`} already on line ${line}: remove one`,

  // slips: a value written the way another tool or page writes it
  addressIsUrl: (value: string, host: string) =>
    `"${value}" is a URL: drop the scheme and port and write the host alone, ${host}; etcd-gen makes the URLs, with ports.peer and ports.client`,
  addressInBrackets: (value: string, ip: string) =>
    `"${value}" has brackets: drop them${value.includes(']:') ? ' and the port' : ''} and write ${ip}; etcd-gen adds brackets where URLs need them`,
  addressWithPort: (value: string, host: string) =>
    `"${value}" has a port: drop it and write ${host}; ports come from ports.peer and ports.client`,
  addressTrailingDot: (value: string, name: string) =>
    `"${value}" ends in a dot (a fully qualified name as DNS zone files write it): drop the dot and write ${name}, as certificates and URLs name hosts`,
  addressZeroPadded: (value: string, ip: string) =>
    `"${value}" has zero-padded numbers, which some tools read as octal (010 is 8): write ${ip}`,
  versionWithV: (value: string, version: string) =>
    `"${value}" starts with "v", as release pages write it: drop the v and write "${version}"`,
  outdentedField: (field: string, homes: readonly string[]) =>
    `unknown field "${field}" here: did you mean ${homes.join(' or ')}? check its indentation: a key indented less than its parent's fields lands one level up`,

  // identity: cluster.yaml against what the deployed cluster is (src/model/identity.ts)
  peerCommonNameChanged: (before: string, after: string) =>
    `the peer certificates' CN would change from ${before} to ${after}, but every running member accepts only ${before} from its peers ` +
    `(--peer-cert-allowed-cn takes one CN and is read at start): a member with the new certificates would be refused by the others ` +
    `("tls: bad certificate"), and quorum lost. Keep the CN: set tls.peerCommonName: ${before} (the name is then a label only)`,
  tokenChanged: (before: string, after: string) =>
    `the initial cluster token would change from ${before} to ${after}, but etcd reads it only when the cluster is first created: ` +
    `the running cluster keeps ${before}, and etcd.conf would misstate it. Keep it: set token: ${before}`,
  portChanged: (kind: 'peer' | 'client', before: number, after: number) =>
    `the ${kind} port would change from ${before} to ${after} on every member at once, and members not yet updated would dial the old ` +
    `${kind} URLs: members move one at a time only (etcd-gen plan, replace-member.sh). Keep ports.${kind}: ${before}; for other ports, ` +
    `build a new cluster into a new output directory and move the data with snapshot.sh and restore.sh`,
  etcdMinorSkipped: (before: string, after: string, path: string) =>
    `etcd ${before} -> ${after} skips a minor release: etcd moves one minor release at a time, restarting one member after another ` +
    `(https://etcd.io/docs/v3.6/upgrades/upgrading-etcd/, "Upgrade policy"). ${path}`,
  etcdBelowMinimum: (before: string, after: string, minimum: string, why: string, source: string, path: string) =>
    `etcd ${before} -> ${after}: every member must run ${minimum} or later before ${after.replace(/\.\d+$/, '')} (${why}; ${source}). ${path}`,
  etcdNoDowngradeApi: (before: string, after: string) =>
    `etcd ${before} -> ${after} is a minor downgrade, and etcd ${before.replace(/\.\d+$/, '')} has no downgrade API (etcdctl downgrade, from 3.6): ` +
    `members of ${before} wrote data the older release may not read. Keep etcd.version: "${before}"; the way back is a new cluster of ${after} ` +
    `restored from a snapshot taken before the upgrade (runbooks/restore.sh in that cluster's output; writes since the snapshot are lost)`,
  etcdReleasePath: (steps: readonly { to: string }[]) =>
    steps.length === 0
      ? 'etcd-gen knows no path there'
      : `The path that works: ${steps.map((s) => s.to).join(' -> ')}, one step per build: set etcd.version: "${steps[0]?.to}", build, run runbooks/upgrade.sh; then the next (etcd-gen plan lists them)`,
  tlsNoCommonSuite: (before: readonly string[], after: readonly string[]) =>
    `the TLS cipher suites would change from ${before.join(',')} to ${after.join(',')}, with none in common: updated members could not ` +
    `talk to the others. Roll out a policy that keeps a suite of the old one first`,
  etcdReleaseStep: (detail: string, note: string | null) => `${detail} (after a verified snapshot, it installs etcd and etcd.conf member by member)${note ? `; ${note}` : ''}`,
  tlsPolicyStep: (before: string | null, after: string | null) =>
    `the TLS policy changed (min version ${before ?? 'default'} -> ${after ?? 'default'}, or the cipher suites): ` +
    `runbooks/rotate-certs.sh installs it and restarts each member in turn, since etcd reads it only at start`,

  electionTooShort: (election: number, heartbeat: number, times: number) =>
    `an election timeout of ${election} ms is less than ${times} heartbeats of ${heartbeat} ms, and etcd refuses to start with it: ` +
    `set electionTimeoutMs to at least ${times * heartbeat} (etcd's tuning guide: about 10 times the round trip between members), or lower heartbeatIntervalMs`,
  unknownEtcdFlag: (flag: string, release: string, suggestion: string | null) =>
    `etcd ${release} has no flag --${flag}${suggestion ? `; did you mean ${suggestion}?` : ''} (etcd --help lists its flags; write them without the dashes)`,
  experimentalFlagRenamed: (flag: string, release: string, renamed: string) =>
    `--${flag} is deprecated in etcd ${release} and gone in 3.7: use ${renamed}, which etcd reads in its place`,
  etcdFlagTooNew: (flag: string, release: string, since: string) => `--${flag} came in etcd ${since}, after ${release}: upgrade etcd first, or leave it out`,
  ownedEtcdFlag: (flag: string, why: string) => `--${flag} cannot be set through extraFlags: ${why}; remove it from extraFlags`,
  etcdFlagValue: (flag: string, release: string, value: string, kind: CheckedFlagKind, problem: FlagValueProblem) => {
    const form = FLAG_VALUE_FORMS[kind];
    const why = problem === 'range' ? `, out of its range (${form.range})` : problem === 'unit' ? ', a number without a unit' : '';
    const write = problem === 'unit' ? `write it with its unit, such as ${value}s or ${value}ms (${DURATION_UNITS})` : `write ${form.example}`;
    return `--${flag} takes ${form.takes}, and etcd ${release} refuses ${JSON.stringify(value)}${why}: every member would fail to start with it; ${write}`;
  },

  // warnings
  v2SkipCheck: (guide: string) =>
    `--v2-deprecation=write-only-skip-check makes etcd skip its check for custom v2 content at start, which etcd's 3.6 upgrade guide allows only at your own risk (${guide}): ` +
    'run etcdutl check v2store (3.5.32 or later) on each stopped member instead, and remove the content it finds; etcd-gen never writes this value itself',
  emptyEtcdFlag: (flag: string) =>
    `--${flag} is empty, and etcd skips an empty setting: it runs with its default; give it a value, or remove it from extraFlags`,
  etcdFlagValueUnchecked: (flag: string, release: string) =>
    `the value of --${flag} is not checked for etcd ${release} (etcd-gen knows the flag kinds of 3.5 and later only): a value etcd cannot read stops every member at start, so try it on one member first`,
  evenMembers: (n: number) =>
    `${n} members tolerate no more failures than ${n - 1}: quorum is ${Math.floor(n / 2) + 1}; use an odd number of members`,
  singleMember: 'one member has no fault tolerance: fine for a lab, use 3 or 5 members for production',
  manyMembers: (n: number) => `${n} members: etcd recommends at most 7; more members slow every write`,
  listensOnAllInterfaces: (host: string) =>
    `no ip for DNS host ${host}: the member listens on all IPv4 interfaces (0.0.0.0), and its peer certificate names only ${host}, ` +
    `so its peers accept its connections only from an address ${host} resolves to (a second interface or NAT is refused); ` +
    'set ip, and list any other address it sends from in extraSANs',
  quotaAboveSuggested: (quota: number, max: number) =>
    `a backend quota of ${(quota / 1024 ** 3).toFixed(2)} GiB is above the ${max / 1024 ** 3} GiB etcd suggests at most: a larger database makes every restart, snapshot, defragmentation and new member slower`,
  requestAboveSuggested: (bytes: number, max: number) =>
    `requests of up to ${(bytes / 1024 ** 2).toFixed(2)} MiB are above the ${max / 1024 ** 2} MiB etcd warns about: large requests block raft for every other client`,
  endOfLifeLine: (why: string, newest: string) => `${why}: plan the upgrade, one minor at a time, towards ${newest}`,
  knownIssue: (release: string, problem: string, fixedIn: string, newest: string, source: string) =>
    `etcd ${release} ${problem}: use ${fixedIn} or later, best the newest patch ${newest} (${source})`,
  newerPatchThanTable: (release: string, newest: string) =>
    `etcd ${release} is newer than the newest ${release.split('.').slice(0, 2).join('.')} patch etcd-gen knows (${newest}): built as ${newest} is, and etcd.extraFlags are checked against the flags of ${newest}; ` +
    `read etcd's CHANGELOG-${release.split('.').slice(0, 2).join('.')}.md for what the patch changes, and update etcd-gen (npm run releases:check lists what is released)`,
  unknownRelease: (release: string, newest: string) =>
    `etcd ${release} does not exist: the newest ${release.split('.').slice(0, 2).join('.')} release etcd-gen knows is ${newest}; use it, or a newer etcd-gen if etcd has released since`,
} as const;

/** The kinds of etcd flag whose values are checked. */
type CheckedFlagKind = Exclude<EtcdFlagKind, 'string'>;

const DURATION_UNITS = 'units: ns, us, ms, s, m, h; only 0 goes without one';

/** What a flag of each kind takes, its range, and an example, as Go's parsers read them (etcd's flag types). */
const FLAG_VALUE_FORMS: Readonly<Record<CheckedFlagKind, { takes: string; range: string; example: string }>> = {
  bool: { takes: 'true or false', range: 'true or false', example: 'true or false (etcd also reads 1, 0, t, f, T, F, TRUE, FALSE, True, False)' },
  int: {
    takes: 'a whole number',
    range: '-9223372036854775808 to 9223372036854775807',
    example: 'a whole number such as 1000 (etcd reads 0x, 0o and 0b prefixes, and a leading 0 as octal)',
  },
  uint: {
    takes: 'a whole number of 0 or more',
    range: '0 to 18446744073709551615',
    example: 'a number such as 1000, without a sign (etcd reads 0x, 0o and 0b prefixes, and a leading 0 as octal)',
  },
  duration: {
    takes: 'a duration',
    range: 'at most 2562047h47m16.854775807s, about 292 years',
    example: `a number with its unit, such as 300ms, 5s or 1h30m (${DURATION_UNITS})`,
  },
  float: { takes: 'a number', range: 'what a float64 holds, up to about 1.8e308', example: 'a number such as 0.5 or 1e-3' },
};

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** The closest known name, for "did you mean" hints: at most one edit per three letters, a swap counting one. */
export function closest(word: string, candidates: readonly string[]): string | null {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}

/** What `etcd-gen import` says about the manual procedure's env directory: the problem, then the fix. */
export const importMessages = {
  envDirUnreadable: (code: string) => `cannot read the procedure's env directory (${code}): pass the directory that holds the <node>.conf files, ca.pem and ca-key.pem`,
  noConfFiles: "no <node>.conf files here: pass the procedure's env directory (where its \"Set up cluster config\" step wrote them)",
  confSyntax: (line: string) => `"${line.slice(0, 60)}" is not a KEY=VALUE line: fix or remove it (the procedure writes NODE_NAME=..., NODE_ADDRESS=... and so on)`,
  confDuplicate: (key: string, line: number) => `${key} is already set on line ${line}: keep one`,
  confMissing: (key: string) => `no ${key} line: add it as the procedure writes it (${key}=...)`,
  unknownConfKey: (where: string, key: string) => `${where}: ${key} is not one of the procedure's fields and was not imported: set its equivalent in cluster.yaml if it matters`,
  confDisagrees: (key: string, value: string, first: string, firstValue: string) =>
    `${key} is "${value}" here but "${firstValue}" at ${first}: every member's file must have the same ${key}; fix the odd one to match the running cluster`,
  confBadPort: (key: string, value: string) => `${key} "${value}" is not a port: use a number from 1 to 65535`,
  clusterNodesEntry: (entry: string) => `"${entry}" is not name=https://host:port: CLUSTER_NODES is etcd's --initial-cluster, comma-separated name=peer URL entries`,
  clusterNodesDuplicate: (name: string) => `member ${name} is listed twice: keep one`,
  peerPortDiffers: (entry: string, port: number) => `"${entry}" does not use PEERS_PORT ${port}: etcd-gen gives every member the same peer port; make them match`,
  nodeNotInCluster: (name: string, where: string) => `NODE_NAME ${name} is not a member of CLUSTER_NODES (${where}): fix the name, or add the member there`,
  nodeTwice: (name: string) => `a second file for member ${name}: remove the stale one`,
  badNodeAddress: (value: string) => `NODE_ADDRESS "${value}" is not https://host:port: it is the member's peer URL`,
  nodeAddressDiffers: (value: string, entry: string) => `NODE_ADDRESS ${value} is not the peer URL CLUSTER_NODES gives this member (${entry}): make them the same`,
  memberWithoutConf: (name: string, where: string) => `member ${name} (${where}) has no .conf file here: imported from CLUSTER_NODES alone`,
  memberListUnreadable: 'not the JSON of etcdctl member list -w json: run that command against the cluster and pass its output',
  liveMemberUnstarted: (peers: string) => `the running cluster has a member that never started (${peers}): start or remove it (etcdctl member remove) before the import`,
  liveMemberUnknown: (name: string) => `the running cluster has member ${name}, which no .conf file or CLUSTER_NODES names: add its .conf (or pass the env directory this cluster was built from)`,
  livePeerDiffers: (name: string, peers: string) => `member ${name} runs with peer URL ${peers}, not the one its .conf gives: fix the .conf to match the running cluster`,
  liveLearner: (name: string) => `member ${name} is a learner: promote it (etcdctl member promote) before the move`,
  liveClientDiffers: (name: string, urls: string) => `member ${name} serves clients on ${urls}, not on CLIENT_PORT: the imported cluster.yaml uses CLIENT_PORT`,
  confMemberNotLive: (name: string, list: string) => `member ${name} is not in the running cluster (${list}): remove it from CLUSTER_NODES and its .conf, or add it back first`,
  caMissing: (cert: string, key: string) => `${cert} and ${key} (cfssl's CA) must both be here: the CA is kept so that trust carries over; copy them from where you ran cfssl`,
  caNotACert: 'not a PEM certificate: this should be cfssl\'s ca.pem',
  caNotCa: 'this certificate is not a CA (no basicConstraints CA:TRUE): use the ca.pem of cfssl gencert -initca',
  caKeyType: 'the CA has a key type etcd-gen cannot sign with (it signs with ECDSA P-256/P-384 and RSA 2048/3072/4096): rotate to a new CA after the import (build --rotate-ca)',
  caKeyEncrypted: 'this CA key is encrypted with a passphrase: decrypt it once (openssl pkey -in ca-key.pem -out ca-key.plain.pem) and import from a copy of the env directory that holds the plain key',
  caKeyNotAKey: 'not a PEM private key (PKCS#1, SEC1 or PKCS#8): this should be cfssl\'s ca-key.pem',
  caKeyMismatch: (cert: string) => `this key does not belong to ${cert}: use the ca-key.pem made with that ca.pem`,
  csrUnreadable: (file: string) => `${file} is not JSON: its hosts were not imported; add any load balancer name to tls.extraSANs`,
  sharedCertUnreadable: (file: string) => `${file} is not a PEM certificate: not listed for revocation`,
  importWouldReplace: 'already exists, and an import never replaces a file or a CA: choose another -o or --secrets, or move it aside',
  unitNotRead:
    "the procedure's unit (etcd3.service, from systemd-service.conf) is not read: etcd-gen's etcd.conf and etcd.service replace it; carry over any flag you added to it (quota, snapshot count, heartbeat) by hand",
  revokeShared: (configFile: string, files: readonly string[]) =>
    `once out/runbooks/takeover.sh has moved every member (it records that in out/takeover.json; build refuses this before), revoke the procedure's shared certificates, which the kept CA still trusts: etcd-gen build ${configFile} -o out ${files.map((f) => `--revoke ${f}`).join(' ')}, then out/runbooks/rotate-certs.sh`,
} as const;

/** What `build --rotate-ca` did, per step (src/pki/index.ts RotationStep), and what the operator does next. */
export const rotationMessages = {
  trust:
    'CA rotation 1/3: a new CA is created and trusted beside the current one; leaves are unchanged. Deploy ca.crt to every member (runbooks/rotate-certs.sh) and client, ' +
    'and kubernetes/root/ to the control-plane nodes, restarting kube-apiserver there one at a time (it reads its etcd CA bundle only at start), then run build --rotate-ca again',
  sign:
    'CA rotation 2/3: the new CA now signs; every leaf was reissued, and the old CA is still trusted. Deploy the new certificates to every member (runbooks/rotate-certs.sh) and client, ' +
    'and kubernetes/root/ to the control-plane nodes, restarting kube-apiserver there one at a time (it uses a new client certificate only on new connections), then run build --rotate-ca again',
  finish:
    'CA rotation 3/3: the old CA is no longer trusted. Deploy ca.crt everywhere (runbooks/rotate-certs.sh), and kubernetes/root/ to the control-plane nodes, ' +
    'restarting kube-apiserver there one at a time; the rotation is complete',
  replace:
    'CA replaced: the CA had expired, so a new one signed every certificate at once and is the only CA trusted. The cluster stays down until every member has them: ' +
    'run runbooks/rotate-certs.sh --all-at-once, then install kubernetes/root/ on the control-plane nodes and restart kube-apiserver there (it reads its etcd CA bundle only at start)',
} as const;

/** What the PKI stage says about the secrets it finds: the problem, then the fix. */
export const pkiMessages = {
  caMissingButOutputHasOne: (previousCa: string) =>
    `no CA key here, but ${previousCa} shows the output was built with a CA: etcd-gen will not create a new CA over an existing cluster. ` +
    'Point --secrets at the secrets directory of that build (or restore it from backup); to start a brand-new PKI on purpose, remove the output directory first',
  caHalfMissing: (cert: string, key: string) =>
    `${cert} and ${key} must both be present: restore the missing one from backup. etcd-gen never replaces an existing CA`,
  notACa: 'this certificate is not a CA (no basicConstraints CA:TRUE): restore the real ca.crt',
  caExpired: (when: Date) =>
    `the CA expired on ${iso(when)}: every certificate it signed is invalid, so members can no longer connect to each other. ` +
    'Check this machine\'s clock first; then run etcd-gen build --rotate-ca to replace the CA in one step, and runbooks/rotate-certs.sh --all-at-once to install it on every member',
  caDiffersFromOutput: (previousCa: string) =>
    `this CA is not the one ${previousCa} was built with: is --secrets pointing at another cluster's secrets? Use the matching secrets directory`,
  caKeyTypeKept: (have: string, want: string) =>
    `the CA's key type stays ${have} (tls.key asks for ${want}): a CA is never replaced by a build; leaves use ${want}`,
  caExpiresSoon: (days: number, certDays: number) =>
    `the CA expires in ${days} days, sooner than a new leaf's ${certDays} days: new certificates end with the CA; plan a CA rotation`,
  notACertificate: 'not a PEM certificate: restore it from backup, or delete this file and its .key to have a new pair issued',
  unsupportedKeyType: 'the certificate has a key type etcd-gen does not issue: restore the right file, or delete it and its .key',
  notAKey: (cert: string) => `not a PEM private key (PKCS#8, PKCS#1 or SEC1) of the type ${cert} has: restore it from backup, or delete both files to have a new pair issued`,
  keyEncrypted:
    'this private key is encrypted with a passphrase, and builds run unattended: decrypt it once (openssl pkey -in KEY -out KEY.plain, then move KEY.plain over KEY, mode 0600); to keep keys encrypted at rest, use age.encryptSecrets',
  keyMismatch: (cert: string) => `this key does not belong to ${cert}: restore the matching pair, or delete both files to have a new pair issued`,
  unknownCertificate: (id: string, known: readonly string[]) => `no certificate "${id}" to renew: name one of ${known.join(', ')}, or renew all`,
  revokeCa: 'a CA cannot revoke itself: to stop trusting everything it signed, rotate the CA (build --rotate-ca)',
  revokeNothingStored: (id: string) => `${id} has no certificate in the secrets directory yet: there is nothing to revoke`,
  revokeNotACert: 'not a PEM certificate: name a certificate file, an id as etcd-gen certs lists them, or a serial in hex',
  revokeOtherCa: "this certificate was not signed by this cluster's CA, so members do not trust it anyway: nothing to revoke",
  revokeUnknown: (request: string, known: readonly string[]) =>
    `"${request}" is no certificate file, certificate id or hex serial: name a file, one of ${known.join(', ')}, or a serial such as 4f:0a:...`,
  revokeInUse: (from: string, id: string) =>
    `${from} is the serial of ${id}, which this build still uses: revoke it by its id (--revoke ${id}) to have it reissued in the same build`,
  revokeBeforeMove: (from: string, record: string, notMoved: readonly string[] | null, runbook: string) =>
    `${from} is one of the manual procedure's shared certificates (etcd-gen import recorded it), and ` +
    (notMoved === null ? `there is no ${record} saying that every member has moved off it` : `${record} does not list ${notMoved.join(', ')} as moved`) +
    `: a member that still uses it would be cut off by the revocation list. Run ${runbook} first (it moves the members left, checks each runs this output's unit and records it there), then build --revoke again`,
  procedureRecordUnreadable: 'not the JSON list of shared certificates etcd-gen import writes: restore it from backup, or delete it to revoke without the check that every member has moved',
  crlUnreadable: 'not a PEM certificate revocation list: restore it from backup (the list of revoked certificates cannot be made again)',
  nothingToRotate: 'there is no CA to rotate yet: run etcd-gen build once without --rotate-ca',
  leafClampedToCa: (end: Date) => `ends on ${iso(end)} with the CA, earlier than certDays asks: plan a CA rotation`,
} as const;
