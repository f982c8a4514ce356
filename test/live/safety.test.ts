/**
 * The field faults of issue 19, live on a 3-member etcd cluster of the loopback harness: a lost data disk,
 * a restore from a copied data dir, a cluster without quorum. Each runs under a writing client, asserts a
 * minimum number of writes, and reads back every acknowledged one from the member that answers.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, runCli } from '../helpers.js';
import { sleep, startLoopbackCluster, type LoopbackCluster } from '../harness/cluster.js';
import { testEachRelease } from '../harness/releases.js';
import { acknowledgedWrites, failedWrites, startClusterWriter } from '../harness/writer.js';

/** Writes through the writer for a while; returns the indices of the acknowledged writes. */
async function writeSome(cluster: LoopbackCluster, prefix: string, atLeast: number): Promise<number[]> {
  const writer = await startClusterWriter(cluster, prefix);
  await sleep(8000);
  const lines = await writer.stop();
  const acked = acknowledgedWrites(lines);
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

function memberList(cluster: LoopbackCluster): string[] {
  const r = cluster.etcdctl('etcdctl_cluster', 'member list -w simple');
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => l.split(', ').slice(1, 3).join(' ') + (l.endsWith('true') ? ' learner' : '')).sort();
}

function rebuildWith(cluster: LoopbackCluster, members: string[]): void {
  const text = readFileSync(cluster.configFile, 'utf8');
  const nodes = members.map((m) => `  - { name: ${m}, host: ${cluster.host(m)} }`).join('\n');
  writeFileSync(cluster.configFile, text.replace(/nodes:\n(?: {2}- .*\n)+/, `nodes:\n${nodes}\n`));
  const built = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });
  assert.equal(built.status, 0, built.stderr);
}

/** Empties a member's data dir as a fresh file system would be: nothing but lost+found. */
function emptyDataDir(cluster: LoopbackCluster, m: string): void {
  run('rm', ['-rf', cluster.dataDir(m)]);
  mkdirSync(path.join(cluster.dataDir(m), 'lost+found'), { recursive: true });
}

testEachRelease('safety: runbooks and the unit against the field faults of issue 19', 'newest', { timeout: 1_800_000 }, async (t, release) => {
  const cluster = await startLoopbackCluster(t, { name: 'sf', spares: ['m4'], release });
  if (!cluster) return;
  const { runbook, logs } = cluster;

  await t.test('lost disk: a member on an empty data dir is refused; replace-member.sh brings it back with every key', async () => {
    for (const m of cluster.members) await waitFor(`the bootstrap record on ${m}`, () => existsSync(recordOf(cluster, m)));
    assert.match(readFileSync(recordOf(cluster, 'm1'), 'utf8'), /^name=m1 ClusterID=\d+ MemberID=\d+ time=/);
    const acked = await writeSome(cluster, '/sf/one/', 5);
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
    const acked = await writeSome(cluster, '/sf/two/', 5);
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

    // The way back without a quorum: a restarted survivor serves no client before it has a quorum, so its
    // database file is what there is. restore.sh takes it only as what it is.
    await cluster.stop('m3');
    const copy = path.join(cluster.dir, 'm3-db-copy.db');
    copyFileSync(path.join(cluster.dataDir('m3'), 'member', 'snap', 'db'), copy);
    const refused = runbook('restore.sh', [copy, '--yes']);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /has no snapshot hash .*missing hash.*--from-data-dir-copy; nothing was stopped/);
    const r = runbook('restore.sh', [copy, '--from-data-dir-copy', '--yes']);
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    assert.match(r.stderr, /WARNING: .*writes held only in that member's WAL are missing/);
    assert.match(r.stderr, /opens: revision \d+, \d+ keys, hash \d+/);
    assert.match(r.stderr, /does not answer a read \(no quorum\)/);
    for (const m of cluster.members) {
      assertReadBack(cluster, `etcdctl_${m}`, '/sf/one/', [1]);
      assertReadBack(cluster, `etcdctl_${m}`, '/sf/two/', acked);
    }
    assert.equal(runbook('health.sh').status, 0);
  });

  await t.test('restore.sh on a healthy cluster: refuses a hash-less copy and a cluster still written to; a failed step puts the old data back', async () => {
    const snapshot = path.join(cluster.dir, 'healthy.db');
    const saved = runbook('snapshot.sh', [snapshot]);
    assert.equal(saved.status, 0, saved.stderr);
    const after = await writeSome(cluster, '/sf/three/', 5);
    const copy = path.join(cluster.dir, 'm1-db-copy.db');
    copyFileSync(path.join(cluster.dataDir('m1'), 'member', 'snap', 'db'), copy);
    const noHash = runbook('restore.sh', [copy, '--yes']);
    assert.equal(noHash.status, 2, noHash.stderr);
    assert.match(noHash.stderr, /--from-data-dir-copy; nothing was stopped/);
    assert.equal(runbook('health.sh').status, 0, 'nothing was stopped');

    // A client still writes: the revision moves within the watch, and nothing is stopped.
    const writer = await startClusterWriter(cluster, '/sf/during-restore/');
    const written = runbook('restore.sh', [snapshot, '--yes'], { env: { ETCD_GEN_RESTORE_WATCH: '3' } });
    const lines = await writer.stop();
    assert.equal(written.status, 3, written.stderr);
    assert.match(written.stderr, /revision moved from \d+ to \d+ in 3s: something still writes/);
    const acked = acknowledgedWrites(lines);
    assert.ok(acked.length >= 5, `the writer wrote (${acked.length} acknowledged of ${lines.length})`);
    assert.deepEqual(failedWrites(lines), [], 'no write failed: nothing was stopped');
    assertReadBack(cluster, 'etcdctl_m2', '/sf/during-restore/', acked);

    // The restore fails on m2 after every member stopped: the old data goes back, the cluster serves.
    const remote = path.join(cluster.dir, 'member-shell-failing-restore');
    writeFileSync(remote, `#!/bin/sh\ncase "$2" in *"snapshot restore"*) if [ "$1" = ${cluster.host('m2')} ]; then echo '{"level":"fatal","msg":"injected: no space left on device"}' >&2; exit 1; fi ;; esac\nexec ${path.join(cluster.dir, 'member-shell')} "$@"\n`, { mode: 0o755 });
    const varBefore = new Map(cluster.members.map((m) => [m, readdirSync(path.join(cluster.dir, `var-${m}`)).sort()]));
    const failed = runbook('restore.sh', [snapshot, '--yes'], { env: { ETCD_GEN_REMOTE: remote, ETCD_GEN_RESTORE_WATCH: '1' } });
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(failed.stderr, /the restore \(\w+ said: injected: no space left on device\) on m2 failed; nothing was restored: every member has its old data back and the cluster serves as before/);
    assert.equal(runbook('health.sh').status, 0);
    for (const m of cluster.members) assertReadBack(cluster, `etcdctl_${m}`, '/sf/three/', after);
    for (const m of cluster.members) {
      assert.deepEqual(readdirSync(path.join(cluster.dir, `var-${m}`)).filter((d) => !d.endsWith('.failed')).sort(), varBefore.get(m), `${m}: no staging left, the data dir back in its place`);
    }
  });

  await t.test('upgrade.sh says so when /version does not answer, instead of exiting with curl\'s status', () => {
    const fake = path.join(cluster.dir, 'curl-times-out');
    mkdirSync(fake, { recursive: true });
    writeFileSync(path.join(fake, 'curl'), '#!/bin/sh\necho "curl: (28) Operation timed out after 5001 milliseconds with 0 bytes received" >&2\nexit 28\n', { mode: 0o755 });
    const r = runbook('upgrade.sh', ['--yes'], { env: { PATH: `${fake}:${cluster.env.PATH ?? ''}` } });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /answers etcdctl but not the cluster version: https:\/\/127\.0\.0\.\d:2379\/version did not answer \(curl said: curl: \(28\) Operation timed out/);
  });

  await t.test('snapshot.sh without a quorum: from the member that applied the most, with a warning; restore.sh brings back every key', async () => {
    const acked = await writeSome(cluster, '/sf/four/', 5);
    await sleep(2000);
    await cluster.kill('m2');
    await cluster.kill('m3');
    const file = path.join(cluster.dir, 'no-quorum.db');
    const r = runbook('snapshot.sh', [file]);
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    assert.match(r.stderr, /m1 answers without a quorum: applied raft index \d+/);
    assert.match(r.stderr, /WARNING: sf has no quorum: taking the snapshot from m1, .*the last acknowledged writes may be missing/);
    const restored = runbook('restore.sh', [file, '--yes']);
    assert.equal(restored.status, 0, `${restored.stderr}\n${logs()}`);
    for (const m of cluster.members) assertReadBack(cluster, `etcdctl_${m}`, '/sf/four/', acked);
    assert.equal(runbook('health.sh').status, 0);
  });

  await t.test('defrag.sh refuses, before it changes anything, while a member lacks 1.2 times its in-use size of free disk, or is down', async () => {
    const fakeBin = path.join(cluster.dir, 'full-disk-defrag');
    mkdirSync(fakeBin, { recursive: true });
    writeFileSync(path.join(fakeBin, 'df'), '#!/bin/sh\necho "Filesystem 1024-blocks Used Available Capacity Mounted on"\necho "/dev/full 100 99 1 99% /"\n', { mode: 0o755 });
    const remote = path.join(cluster.dir, 'member-shell-full-defrag');
    writeFileSync(remote, `#!/bin/sh\nif [ "$1" = ${cluster.host('m2')} ]; then exec ${path.join(cluster.dir, 'member-shell')} "$1" "PATH=${fakeBin}:\\$PATH; $2"; fi\nexec ${path.join(cluster.dir, 'member-shell')} "$@"\n`, { mode: 0o755 });
    const full = runbook('defrag.sh', ['--yes'], { env: { ETCD_GEN_REMOTE: remote } });
    assert.equal(full.status, 3, full.stderr);
    assert.match(full.stderr, /m2 has 1 KiB free on \/var\/lib\/etcd, and its defrag needs \d+ KiB \(1\.2 times the \d+ bytes its database uses\)/);
    assert.doesNotMatch(full.stderr, /compacting|defragmenting/);
    await cluster.stop('m3');
    const down = runbook('defrag.sh', ['--yes']);
    assert.equal(down.status, 3, down.stderr);
    assert.match(down.stderr, /m3 .*not healthy/);
    cluster.start('m3');
    assert.ok(await cluster.waitHealthy(60_000), logs());
  });

  await t.test('add-member.sh: a rerun resumes the promotion of a learner left unpromoted; replace-member.sh never adds it back as a voter', async () => {
    rebuildWith(cluster, ['m1', 'm2', 'm3', 'm4']);
    cluster.deploy('m4');
    const noPromote = path.join(cluster.dir, 'etcdctl-no-promote');
    writeFileSync(noPromote, '#!/bin/sh\ncase " $* " in *" member promote "*) echo "Error: etcdserver: can only promote a learner member which is in sync with leader" >&2; exit 1 ;; esac\nexec etcdctl "$@"\n', { mode: 0o755 });
    const first = runbook('add-member.sh', ['m4', '--yes'], { env: { ETCDCTL_BIN: noPromote, ETCD_GEN_WAIT: '10' } });
    assert.equal(first.status, 1, first.stderr);
    assert.match(first.stderr, /it stays a learner \(no vote\)\. Run runbooks\/add-member\.sh m4 again/);
    assert.match(first.stderr, /can only promote a learner member which is in sync with leader/, 'says what etcd said');
    assert.deepEqual(memberList(cluster), ['started m1', 'started m2', 'started m3', 'started m4 learner']);
    const replaced = runbook('replace-member.sh', ['m4', '--yes']);
    assert.equal(replaced.status, 3, replaced.stderr);
    assert.match(replaced.stderr, /m4 is a learner that was never promoted: runbooks\/add-member\.sh m4 resumes/);
    const again = runbook('add-member.sh', ['m4', '--yes']);
    assert.equal(again.status, 0, `${again.stderr}\n${logs()}`);
    assert.match(again.stderr, /promoted m4 to a voting member/);
    assert.deepEqual(memberList(cluster), ['started m1', 'started m2', 'started m3', 'started m4']);
    rebuildWith(cluster, ['m1', 'm2', 'm3']);
    const removed = runbook('remove-member.sh', ['m4', '--yes']);
    assert.equal(removed.status, 0, removed.stderr);
    assert.equal(runbook('health.sh').status, 0);
  });
});
