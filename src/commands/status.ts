/**
 * `etcd-gen status <config> -o <out>`: the running cluster against out/. Reads out/expected.json and the
 * admin certificate, asks every member at once (src/observe/live.ts), names each difference
 * (src/observe/compare.ts) and, when a quorum answered, writes state/observed.json beside cluster.yaml.
 * Read only toward the cluster. Exit 0: the cluster is what out/ describes; 1: differences (each
 * named); 4: no quorum (per member what endpoint status gives, the rest not checked).
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../diagnostics.js';
import { compareWithExpected, observationOf, type Comparison } from '../observe/compare.js';
import { DEFAULT_TIMEOUT_MS, readLiveCluster } from '../observe/live.js';
import { observationFile, readAdminTls, readExpected, writeObservation } from '../observe/state.js';
import type { LiveCluster, LiveEndpoint, Reading, ServedCertificate } from '../observe/types.js';
import type { ExpectedCluster } from '../render/expected.js';
import { defaultSecretsDir, displayFile } from '../paths.js';
import { EXIT_ATTENTION, EXIT_NO_QUORUM, EXIT_OK, type Console } from './console.js';

export interface StatusArgs {
  config: string;
  out: string;
  secrets: string | undefined;
  /** Per-request bound in ms. */
  timeout?: number;
  /** Write state/observed.json (default true). */
  write?: boolean;
}

const size = (bytes: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
};

function certCell(r: Reading<ServedCertificate>, sha256: string): string {
  if (!r.ok) return 'not checked';
  return `${r.value.sha256 === sha256 ? "out/'s" : 'OTHER'}, ${r.value.daysLeft}d`;
}

function row(e: LiveEndpoint, expected: ExpectedCluster, names: Map<string, string>): string[] {
  const want = expected.members.find((m) => m.name === e.name);
  const server = certCell(e.server, want?.server.sha256 ?? '');
  const peer = certCell(e.peer, want?.peer.sha256 ?? '');
  if (!e.status.ok) return [e.name, '-', '-', '-', '-', '-', `down: ${e.status.error}`, server, peer];
  const s = e.status.value;
  const quota = s.dbSizeQuota ?? expected.quotaBackendBytes;
  const leader = s.leader === '0' ? 'none' : s.leader === s.id ? 'self' : (names.get(s.leader) ?? s.leader);
  return [e.name, s.id, s.release, s.learner ? 'learner' : 'voter', leader, String(s.raftIndex), `${size(s.dbSize)} / ${size(s.dbSizeInUse)} / ${size(quota)}`, server, peer];
}

/** The table and lists a person reads. */
export function formatStatus(live: LiveCluster, expected: ExpectedCluster, comparison: Comparison): string {
  const names = new Map((live.members ?? []).map((m) => [m.id, m.name || m.id]));
  const head = ['MEMBER', 'ID', 'RELEASE', 'ROLE', 'LEADER', 'RAFT INDEX', 'DB SIZE / IN USE / QUOTA', 'SERVER CERT', 'PEER CERT'];
  const rows = [head, ...live.endpoints.map((e) => row(e, expected, names))];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
  const lines = [
    live.quorum
      ? `cluster ${expected.cluster}: id ${live.clusterId}, cluster version ${live.clusterVersion}, revision ${live.revision}`
      : `cluster ${expected.cluster}: NO QUORUM (no member answered a linearizable read)`,
    table,
  ];
  if (live.members) lines.push(`members: ${live.members.map((m) => `${m.name || '(not started)'} ${m.id} ${m.learner ? 'learner' : 'voter'} peer ${m.peerURLs.join(',')} client ${m.clientURLs.join(',') || '-'}`).join('; ')}`);
  if (live.alarms) lines.push(`alarms: ${live.alarms.length === 0 ? 'none' : live.alarms.map((a) => `${a.alarm} (${names.get(a.memberId) ?? a.memberId})`).join(', ')}`);
  if (comparison.differences.length > 0) lines.push('differences:', ...comparison.differences.map((d) => `  ${d.message}`));
  if (comparison.notChecked.length > 0) lines.push('not checked:', ...comparison.notChecked.map((n) => `  ${n}`));
  return `${lines.join('\n')}\n`;
}

export async function runStatus(args: StatusArgs, con: Console): Promise<number> {
  // Only its place is used (state/ and secrets/ beside it): a missing file is exit 2, as for every command.
  await access(args.config);
  if (args.timeout !== undefined && !(Number.isFinite(args.timeout) && args.timeout > 0)) {
    throw new UsageError(`--timeout ${args.timeout}: give the bound of each request in milliseconds, more than 0`, "Run 'etcd-gen status --help' for usage.");
  }
  const expected = await readExpected(args.out);
  const auth = await readAdminTls(args.out, args.secrets ?? defaultSecretsDir(args.config));
  const live = await readLiveCluster(expected.members, auth, { timeoutMs: args.timeout ?? DEFAULT_TIMEOUT_MS });
  const comparison = compareWithExpected(live, expected);
  const observation = observationOf(live, expected, `Written by etcd-gen status from the running cluster ${expected.cluster}; read by etcd-gen plan. Commit it beside ${path.basename(args.config)}.`);
  const file = observationFile(args.config);
  if (observation && args.write !== false) await writeObservation(file, observation);
  const code = !live.quorum ? EXIT_NO_QUORUM : comparison.differences.length > 0 ? EXIT_ATTENTION : EXIT_OK;
  if (con.json) {
    con.printJson({ ok: code === EXIT_OK, cluster: expected.cluster, ...live, differences: comparison.differences, notChecked: comparison.notChecked, observation: observation && args.write !== false ? file : null });
    return code;
  }
  con.out(formatStatus(live, expected, comparison));
  if (observation && args.write !== false) con.say(`etcd-gen: wrote ${displayFile(file)}`);
  if (code === EXIT_NO_QUORUM) con.say('etcd-gen: no quorum: the cluster takes no writes; bring members back (health.sh says which are down) before any other step');
  else if (code === EXIT_ATTENTION) con.say(`etcd-gen: ${comparison.differences.length} difference(s) from ${displayFile(path.resolve(args.out))}`);
  else con.say(`etcd-gen: the cluster is what ${displayFile(path.resolve(args.out))} describes`);
  return code;
}
