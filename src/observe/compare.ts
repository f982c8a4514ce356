/**
 * The live reading against out/: pure, (LiveCluster, ExpectedCluster) -> each difference named, and the
 * facts that could not be read. What counts as a difference:
 * - a member of out/ that does not answer, is not in `member list`, has other URLs there, or is a learner;
 *   a member in `member list` that out/ does not have;
 * - a member on a release other than out/'s etcd.version, a cluster version other than `<minor>.0` (etcd
 *   settles it at the lowest minor its voters run: docs "Upgrade etcd from 3.x to 3.y");
 * - a raised alarm (NOSPACE, CORRUPT: docs "Maintenance");
 * - a served certificate that is not out/'s (by SHA-256), does not chain to out/'s CA bundle, or has
 *   fewer than tls.renewBeforeDays left.
 */
import type { ExpectedCluster, ExpectedMember } from '../render/expected.js';
import type { Difference, LiveCluster, LiveEndpoint, LiveMember, Observation, ServedCertificate } from './types.js';

export interface Comparison {
  differences: Difference[];
  /** Facts not read, each as "member: what" or "cluster: what", with why. */
  notChecked: string[];
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');

function certificateDifferences(e: ExpectedMember, kind: 'server' | 'peer', served: ServedCertificate, expected: ExpectedCluster): Difference[] {
  const url = kind === 'server' ? e.clientUrl : e.peerUrl;
  const own = e[kind];
  const out: Difference[] = [];
  if (served.sha256 !== own.sha256) {
    out.push({
      kind: 'certificate-not-out',
      member: e.name,
      message: `${e.name} serves a ${kind} certificate on ${url} that is not out/'s (SHA-256 ${served.sha256}, out/ has ${own.sha256}): deploy the member's files from out/`,
    });
  }
  if (!served.trusted) out.push({ kind: 'certificate-untrusted', member: e.name, message: `${e.name}'s ${kind} certificate on ${url} is refused by a client with out/'s CA bundle: ${served.refusal ?? 'not trusted'}` });
  if (served.daysLeft < expected.renewBeforeDays) {
    out.push({ kind: 'certificate-expiring', member: e.name, message: `${e.name}'s ${kind} certificate on ${url} has ${served.daysLeft} days left (tls.renewBeforeDays is ${expected.renewBeforeDays})` });
  }
  return out;
}

/** What one endpoint's own answers show: down, release, leader, certificates. */
function endpointDifferences(e: ExpectedMember, live: LiveEndpoint, expected: ExpectedCluster, notChecked: string[]): Difference[] {
  const out: Difference[] = [];
  if (!live.status.ok) {
    out.push({ kind: 'member-down', member: e.name, message: `${e.name} does not answer at ${e.clientUrl}: ${live.status.error}` });
  } else {
    const s = live.status.value;
    if (s.release !== expected.etcdVersion) out.push({ kind: 'release', member: e.name, message: `${e.name} runs etcd ${s.release}, out/ has ${expected.etcdVersion}` });
    if (s.leader === '0') out.push({ kind: 'no-leader', member: e.name, message: `${e.name} knows no leader` });
  }
  for (const kind of ['server', 'peer'] as const) {
    const served = live[kind];
    if (served.ok) out.push(...certificateDifferences(e, kind, served.value, expected));
    else notChecked.push(`${e.name}: the ${kind} certificate on ${kind === 'server' ? e.clientUrl : e.peerUrl} (${served.error})`);
  }
  return out;
}

/** `member list` against out/'s members, matched by name, or by peer URL for a member not started yet. */
function membershipDifferences(expected: ExpectedCluster, list: readonly LiveMember[]): Difference[] {
  const out: Difference[] = [];
  const matched = new Set<LiveMember>();
  for (const e of expected.members) {
    const m = list.find((l) => l.name === e.name) ?? list.find((l) => l.name === '' && l.peerURLs.includes(e.peerUrl));
    if (!m) {
      out.push({ kind: 'member-missing', member: e.name, message: `${e.name} (${e.peerUrl}) is not a member of the cluster: member list does not have it` });
      continue;
    }
    matched.add(m);
    if (!sameSet(m.peerURLs, [e.peerUrl]) || (m.name !== '' && !sameSet(m.clientURLs, [e.clientUrl]))) {
      out.push({ kind: 'member-urls', member: e.name, message: `${e.name} is in member list with peer ${m.peerURLs.join(',')} and client ${m.clientURLs.join(',') || '-'}, out/ has ${e.peerUrl} and ${e.clientUrl}` });
    }
    if (m.learner) out.push({ kind: 'member-learner', member: e.name, message: `${e.name} is a learner, not a voting member` });
  }
  for (const m of list.filter((l) => !matched.has(l))) {
    out.push({ kind: 'member-unexpected', message: `member ${m.id} (${m.name || 'not started'}, ${m.peerURLs.join(',')}) is in the cluster but not in out/` });
  }
  return out;
}

/** The comparison: every difference, in out/'s member order, then the cluster-wide ones. */
export function compareWithExpected(live: LiveCluster, expected: ExpectedCluster): Comparison {
  const notChecked: string[] = [];
  const differences: Difference[] = [];
  for (const e of expected.members) {
    const endpoint = live.endpoints.find((x) => x.name === e.name);
    if (!endpoint) notChecked.push(`${e.name}: not asked`);
    else differences.push(...endpointDifferences(e, endpoint, expected, notChecked));
  }
  if (!live.quorum || live.members === null) {
    notChecked.push('cluster: members, alarms, cluster version and revision (no member answered a linearizable read: no quorum)');
    return { differences, notChecked };
  }
  differences.push(...membershipDifferences(expected, live.members));
  const names = new Map(live.members.map((m) => [m.id, m.name || m.id]));
  for (const a of live.alarms ?? []) differences.push({ kind: 'alarm', member: names.get(a.memberId), message: `alarm ${a.alarm} raised on member ${names.get(a.memberId) ?? a.memberId} (${a.memberId})` });
  if (live.alarms === null) notChecked.push('cluster: alarms (alarm list did not answer)');
  const wantVersion = `${expected.etcdMinor}.0`;
  if (live.clusterVersion !== null && live.clusterVersion !== wantVersion) {
    differences.push({ kind: 'cluster-version', message: `the cluster version is ${live.clusterVersion}, out/'s release ${expected.etcdVersion} settles at ${wantVersion}` });
  }
  return { differences, notChecked };
}

/** state/observed.json's data from a reading with a quorum; null without one (the file is left as it was). */
export function observationOf(live: LiveCluster, expected: ExpectedCluster, generated: string): Observation | null {
  if (!live.quorum || live.members === null || live.clusterId === null || live.revision === null) return null;
  const releaseOf = (id: string): string | null => {
    const e = live.endpoints.find((x) => x.status.ok && x.status.value.id === id);
    return e?.status.ok ? e.status.value.release : null;
  };
  const sha = (r: LiveEndpoint['server']): string | null => (r.ok ? r.value.sha256 : null);
  return {
    generated,
    format: 1,
    observedAt: live.observedAt,
    cluster: expected.cluster,
    clusterId: live.clusterId,
    revision: live.revision,
    clusterVersion: live.clusterVersion,
    members: [...live.members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1)).map((m) => ({ ...m, release: releaseOf(m.id) })),
    served: live.endpoints.map((e) => ({ name: e.name, server: sha(e.server), peer: sha(e.peer) })),
  };
}
