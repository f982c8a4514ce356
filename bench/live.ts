/**
 * npm run bench:live: wall times of the runbooks against a live 3-member cluster (the loopback harness of
 * the live tests: root, and the etcd releases of `npm run etcd:fetch`), on the newest release of each
 * supported line. Each figure is the median of several runs. Targets are reported, not enforced.
 *
 * health.sh must answer in seconds whatever the state: healthy, with one member down, with all down.
 * etcd-gen status too: 1 s healthy, 5 s with one member down (its reading, every member at once, and the
 * whole command with Node's start).
 * The upgrade path (test/live/upgrade.test.ts): each step's wall time and the longest write wait.
 * The real hosts (test/hosts/hosts.test.ts): boot to healthy by cloud-init and each runbook, per release.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startLoopbackCluster, type LoopbackCluster } from '../test/harness/cluster.js';
import { selectReleases } from '../test/harness/releases.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** Enough of node:test's context for the harness: cleanups run when the bench of a release ends. */
function benchContext(name: string): { t: TestContext; cleanup: () => Promise<void> } {
  const cleanups: (() => unknown)[] = [];
  const t = {
    name,
    after: (fn: () => unknown) => cleanups.push(fn),
    skip: (why: string) => {
      throw new Error(`${name}: ${why}`);
    },
    diagnostic: () => undefined,
  } as unknown as TestContext;
  return { t, cleanup: async () => { for (const fn of cleanups.reverse()) await fn(); } };
}

/** Median wall time of health.sh, in ms, and the exit code of its last run. */
function timeHealth(cluster: LoopbackCluster): { ms: number; status: number | null } {
  const times: number[] = [];
  let status: number | null = null;
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    status = cluster.runbook('health.sh').status;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] ?? NaN, status };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Median wall time of `etcd-gen status --json --no-write` and of its reading (elapsedMs), in ms, and the last exit code. */
function timeStatus(cluster: LoopbackCluster): { ms: number; readMs: number; status: number | null } {
  const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
  const walls: number[] = [];
  const reads: number[] = [];
  let status: number | null = null;
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const r = cluster.ns(process.execPath, [cli, 'status', 'cluster.yaml', '-o', 'out', '--json', '--no-write'], { cwd: cluster.dir });
    walls.push(Number(process.hrtime.bigint() - start) / 1e6);
    status = r.status;
    try {
      reads.push((JSON.parse(r.stdout) as { elapsedMs: number }).elapsedMs);
    } catch {
      reads.push(NaN);
    }
  }
  return { ms: median(walls), readMs: median(reads), status };
}

if (process.getuid?.() !== 0) {
  process.stdout.write('bench:live needs root (network and mount namespaces, users per member): skipped\n');
  process.exit(0);
}
const { releases } = selectReleases('newest');
if (releases.length === 0) {
  process.stdout.write('bench:live needs the etcd releases of test/etcd-matrix.txt (npm run etcd:fetch): skipped\n');
  process.exit(0);
}

const statusLines = ['', `etcd-gen status, median of ${RUNS} runs: the reading (every member at once) / the whole command (targets: 1 s healthy, 5 s with one member down)`, '', '| etcd | healthy | one member down |', '|---|---:|---:|'];
const lines = ['', `health.sh wall time, median of ${RUNS} runs (targets: 2 s healthy, 5 s with one member down, 10 s with all down)`, '', '| etcd | healthy | one member down | all down |', '|---|---:|---:|---:|'];
for (const release of releases) {
  const { t, cleanup } = benchContext(`bench ${release.version}`);
  try {
    const cluster = await startLoopbackCluster(t, { name: 'bench', release });
    if (!cluster) throw new Error('the cluster did not start');
    const healthy = timeHealth(cluster);
    const statusHealthy = timeStatus(cluster);
    await cluster.stop('m3');
    const oneDown = timeHealth(cluster);
    const statusOneDown = timeStatus(cluster);
    const statusCell = (r: { ms: number; readMs: number; status: number | null }, exit: number) =>
      `${(r.readMs / 1000).toFixed(2)} s / ${(r.ms / 1000).toFixed(2)} s${r.status === exit ? '' : ` (exit ${r.status}, expected ${exit})`}`;
    statusLines.push(`| ${release.version} | ${statusCell(statusHealthy, 0)} | ${statusCell(statusOneDown, 1)} |`);
    await cluster.stop('m2');
    await cluster.stop('m1');
    const allDown = timeHealth(cluster);
    const cell = (r: { ms: number; status: number | null }, exit: number) => `${(r.ms / 1000).toFixed(2)} s${r.status === exit ? '' : ` (exit ${r.status}, expected ${exit})`}`;
    lines.push(`| ${release.version} | ${cell(healthy, 0)} | ${cell(oneDown, 1)} | ${cell(allDown, 1)} |`);
  } finally {
    await cleanup();
  }
}
lines.push(...statusLines);
// The upgrade path, live (test/live/upgrade.test.ts on the loopback harness: root, and the matrix's binaries):
// each step's wall time, and the longest any write of the client writing all along waited.
// BENCH_UPGRADE=0 leaves it out (it takes minutes).
if (process.env.BENCH_UPGRADE !== '0') {
  const reportFile = path.join(os.tmpdir(), `etcd-gen-bench-upgrade-${process.pid}.json`);
  process.stderr.write('  upgrade path 3.4.23 -> 3.7.3 -> 3.6.16, live (minutes; BENCH_UPGRADE=0 skips it)\n');
  const r = spawnSync(process.execPath, ['--test', fileURLToPath(new URL('../test/live/upgrade.test.js', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, ETCD_GEN_UPGRADE_REPORT: reportFile, ETCD_GEN_TEST_PARALLEL: '1' },
  });
  let steps: { step: string; wallMs: number; writes: number; failed: number; longestWriteMs: number }[] = [];
  try {
    steps = JSON.parse(readFileSync(reportFile, 'utf8')) as typeof steps;
    rmSync(reportFile, { force: true });
  } catch {
    lines.push('', `upgrade path: no report (the live test ${r.status === 0 ? 'was skipped: are the matrix binaries fetched (npm run etcd:fetch)?' : `failed:\n${r.stdout.split('\n').filter((l) => /not ok|Error|expected|actual/.test(l)).slice(0, 10).join('\n')}`})`);
  }
  if (steps.length > 0) {
    lines.push('', '| upgrade step (runbooks/upgrade.sh, 3 members) | wall s | writes | failed | longest write ms |', '|---|---:|---:|---:|---:|');
    for (const st of steps) lines.push(`| ${st.step} | ${(st.wallMs / 1000).toFixed(1)} | ${st.writes} | ${st.failed} | ${st.longestWriteMs} |`);
  }
} else {
  lines.push('', 'upgrade path: skipped (BENCH_UPGRADE=0)');
}
// The real hosts (test/hosts/hosts.test.ts: booted Debian machines, systemd-nspawn): time from boot to a
// healthy cluster by cloud-init, from a reboot of every host to healthy, and each runbook's wall time over
// real ssh as a sudo user, with the writes of the kube-apiserver client meanwhile. BENCH_HOSTS=0 leaves it out.
if (process.env.BENCH_HOSTS !== '0') {
  const reportFile = path.join(os.tmpdir(), `etcd-gen-bench-hosts-${process.pid}.json`);
  process.stderr.write('  real hosts, per release (minutes; BENCH_HOSTS=0 skips it)\n');
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', fileURLToPath(new URL('../test/hosts/hosts.test.js', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, ETCD_GEN_HOSTS_REPORT: reportFile, ETCD_GEN_TEST_PARALLEL: '1' },
  });
  let byRelease: Record<string, Record<string, number>> = {};
  try {
    byRelease = JSON.parse(readFileSync(reportFile, 'utf8')) as typeof byRelease;
    rmSync(reportFile, { force: true });
  } catch {
    lines.push('', `real hosts: no report (the hosts test ${r.status === 0 ? 'was skipped: root, debootstrap, systemd-nspawn?' : 'failed'})`);
  }
  const runbooks = ['health.sh', 'snapshot.sh', 'rotate-certs.sh', 'replace-member.sh', 'defrag.sh', 'add-member.sh', 'remove-member.sh', 'restore.sh'];
  // restore.sh runs with kube-apiserver stopped, as it asks: no writes to count.
  const cell = (x: Record<string, number>, rb: string) =>
    x[rb] === undefined ? '-' : `${((x[rb] ?? 0) / 1000).toFixed(1)} s${x[`${rb} writes`] === undefined ? '' : ` (${x[`${rb} writes`]}/${x[`${rb} failed`]})`}`;
  if (Object.keys(byRelease).length > 0) {
    lines.push('', 'real hosts (systemd-nspawn, 3 members): wall times; runbooks as seconds (writes/failed of the kube-apiserver client meanwhile)', '');
    lines.push(`| etcd | boot to healthy (cloud-init) | reboot to healthy | ${runbooks.join(' | ')} |`, `|---|---:|---:|${runbooks.map(() => '---:').join('|')}|`);
    for (const [v, x] of Object.entries(byRelease)) {
      lines.push(`| ${v} | ${((x.bootToHealthy ?? NaN) / 1000).toFixed(1)} s | ${((x.rebootToHealthy ?? NaN) / 1000).toFixed(1)} s | ${runbooks.map((rb) => cell(x, rb)).join(' | ')} |`);
    }
  }
} else {
  lines.push('', 'real hosts: skipped (BENCH_HOSTS=0)');
}
process.stdout.write(`${lines.join('\n')}\n`);
