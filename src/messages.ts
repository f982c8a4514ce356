/**
 * Every message etcd-gen says about its input, in one place: the problem, then how to fix it.
 */
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
    `must be ${article(expected)} ${expected}, not ${got === 'null' ? 'null' : `${article(got)} ${got}`}${expected === 'string' ? ': quote the value' : ''}`,
  notInEnum: (allowed: readonly unknown[]) => `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
  outOfRange: (min: number | undefined, max: number | undefined) =>
    min !== undefined && max !== undefined ? `must be from ${min} to ${max}` : min !== undefined ? `must be at least ${min}` : `must be at most ${max}`,
  tooShort: (min: number, what: string) => `needs at least ${min} ${what}`,
  tooLong: (max: number, what: string) => `may have at most ${max} ${what}`,
  badPattern: (fix: string) => `invalid value: ${fix}`,
  duplicateItem: 'lists the same value twice: remove the duplicate',

  // semantics
  duplicateNodeName: (name: string, line: number) => `node name "${name}" is already used on line ${line}: names must be unique`,
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

  // identity: cluster.yaml against what the deployed cluster is (src/identity.ts)
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
  etcdMinorSkipped: (before: string, after: string, between: number) =>
    `etcd ${before} -> ${after} skips 3.${between}: etcd upgrades one minor release at a time, restarting one member after another ` +
    `(https://etcd.io/docs/v3.5/upgrades/). Build with a 3.${between}.x release first and roll it out, then ${after}`,
  etcdMinorDowngrade: (before: string, after: string) =>
    `etcd ${before} -> ${after} is a downgrade to an earlier minor release: members of ${before} wrote data the older release may not read, ` +
    `and a rolling downgrade needs etcd's own procedure first (etcdctl downgrade enable, from 3.6). Keep etcd.version: "${before}"`,
  tlsNoCommonSuite: (before: readonly string[], after: readonly string[]) =>
    `the TLS cipher suites would change from ${before.join(',')} to ${after.join(',')}, with none in common: updated members could not ` +
    `talk to the others. Roll out a policy that keeps a suite of the old one first`,
  etcdUpgradeStep: (before: string, after: string, bin: string, patchDowngrade: boolean) =>
    `etcd ${before} -> ${after}${patchDowngrade ? ' (a patch downgrade, within one minor release)' : ''}: one member at a time, ` +
    `the leader last, install etcd ${after} in ${bin} and restart it (systemctl restart etcd), each only when runbooks/health.sh passes; ` +
    `then runbooks/rotate-certs.sh installs the new etcd.conf`,
  tlsPolicyStep: (before: string | null, after: string | null) =>
    `the TLS policy changed (min version ${before ?? 'default'} -> ${after ?? 'default'}, or the cipher suites): ` +
    `runbooks/rotate-certs.sh installs it and restarts each member in turn, since etcd reads it only at start`,

  // warnings
  evenMembers: (n: number) =>
    `${n} members tolerate no more failures than ${n - 1}: quorum is ${Math.floor(n / 2) + 1}; use an odd number of members`,
  singleMember: 'one member has no fault tolerance: fine for a lab, use 3 or 5 members for production',
  manyMembers: (n: number) => `${n} members: etcd recommends at most 7; more members slow every write`,
  listensOnAllInterfaces: (host: string) =>
    `no ip for DNS host ${host}: the member listens on all IPv4 interfaces (0.0.0.0); set ip to bind to one address`,
  endOfLife34: 'etcd 3.4 is out of upstream support since 3.6 was released: plan an upgrade to 3.5 or 3.6',
} as const;

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
