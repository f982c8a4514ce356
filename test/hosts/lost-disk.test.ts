/**
 * Issue 19, field fault 2, on booted hosts with real systemd (test/harness/hosts.ts): members whose data
 * disk is gone must never bootstrap a new, empty cluster. The unit's bootstrap guard (ExecStartPre) refuses
 * them; replace-member.sh (with a quorum of the others) or a survivor's database and restore.sh
 * --from-data-dir-copy (without one) bring every acknowledged write back.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { isCI } from '../helpers.js';
import { startBed, type Bed } from '../harness/hosts.js';
import { testEachRelease } from '../harness/releases.js';
import { acknowledgedWrites, failedWrites } from '../harness/writer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function noMatrix(t: TestContext): void {
  const why = 'needs the etcd releases of test/etcd-matrix.txt in the cache (npm run etcd:fetch)';
  if (isCI) assert.fail(`${t.name}: ${why}. Under CI a missing piece is a failure.`);
  process.stderr.write(`\n!!! SKIPPED "${t.name}": ${why}. This check did NOT run. !!!\n\n`);
  t.skip(why);
}

/** Writes under prefix for a while through every endpoint; the indices of the acknowledged writes. */
async function writeSome(bed: Bed, prefix: string, atLeast: number): Promise<number[]> {
  const writer = await bed.startWriter(prefix);
  await sleep(8000);
  const lines = await writer.stop();
  const acked = acknowledgedWrites(lines);
  assert.ok(acked.length >= atLeast, `the writer wrote (${acked.length} acknowledged of ${lines.length}; failed: ${failedWrites(lines).length})`);
  return acked;
}

function assertReadBack(bed: Bed, member: string, prefix: string, acked: readonly number[]): void {
  const r = bed.etcdctl(`etcdctl_${member}`, `get ${prefix} --prefix --keys-only --consistency=s`);
  assert.equal(r.status, 0, r.stderr);
  const keys = new Set(r.stdout.split('\n').filter((l) => l.startsWith(prefix)));
  assert.deepEqual(acked.filter((i) => !keys.has(`${prefix}${i}`)), [], `${member} holds every acknowledged write under ${prefix}`);
}

/** Whether the guard refused etcd on the member, as the journal says, with etcd not running. */
function refused(bed: Bed, m: string): boolean {
  const journal = bed.inside(m, 'journalctl -u etcd --no-pager -n 200').stdout;
  return /REFUSED: .*holds no \.wal file/.test(journal) && bed.inside(m, 'systemctl is-active etcd').stdout.trim() !== 'active';
}

async function waitRefused(bed: Bed, m: string): Promise<void> {
  for (let i = 0; i < 120 && !refused(bed, m); i++) await sleep(500);
  assert.ok(refused(bed, m), `${m}: the guard refused etcd\n${bed.logs()}`);
}

/** The member's data disk lost: its data dir emptied while etcd is stopped (a fresh file system's lost+found). */
function loseDisk(bed: Bed, m: string): void {
  const r = bed.inside(m, 'systemctl stop etcd && rm -rf /var/lib/etcd/member && mkdir -p /var/lib/etcd/lost+found');
  assert.equal(r.status, 0, r.stderr);
}

testEachRelease('real hosts: a lost data disk never bootstraps a new cluster', 'newest', { timeout: 1_200_000 }, async (t, release) => {
  if (!release) return noMatrix(t);
  const bed = await startBed(t, { release });
  if (!bed) return;

  await t.test('three fresh VMs still boot into a cluster unattended, and each records its bootstrap', async () => {
    for (const m of bed.members) bed.boot(m);
    const status = await bed.waitCloudInit();
    for (const [m, s] of status) assert.match(s, /status: done/, `${m}: cloud-init finished:\n${s}\n${bed.logs()}`);
    assert.ok(await bed.waitHealthy(), bed.logs());
    for (const m of bed.members) {
      const record = bed.inside(m, 'cat /var/lib/etcd-gen/bootstrap.record');
      assert.match(record.stdout, new RegExp(`^name=${m} ClusterID=\\d+ MemberID=\\d+ time=`), `${m}: ${record.stderr}`);
    }
  });

  await t.test('one member on a missing disk is refused; replace-member.sh brings it back with every key', async () => {
    const m = bed.members[0] ?? 'h1';
    const acked = await writeSome(bed, '/lost/one/', 5);
    loseDisk(bed, m);
    bed.inside(m, 'systemctl start --no-block etcd');
    await waitRefused(bed, m);
    const r = bed.runbook('replace-member.sh', [m, '--yes']);
    assert.equal(r.status, 0, `${r.stderr}\n${bed.logs()}`);
    assertReadBack(bed, m, '/lost/one/', acked);
    assert.equal(bed.runbook('health.sh').status, 0);
  });

  await t.test('a whole-cluster stop, two members emptied, all started at once: both refuse; the survivor\'s database and restore.sh bring back every key', async () => {
    const acked = await writeSome(bed, '/lost/two/', 5);
    for (const m of bed.members) assert.equal(bed.inside(m, 'systemctl stop etcd').status, 0);
    const [a = 'h1', b = 'h2', survivor = 'h3'] = bed.members;
    loseDisk(bed, a);
    loseDisk(bed, b);
    for (const m of bed.members) bed.inside(m, 'systemctl start --no-block etcd');
    await waitRefused(bed, a);
    await waitRefused(bed, b);
    const health = bed.runbook('health.sh');
    assert.equal(health.status, 1, health.stdout);
    // The survivor, restarted without a quorum, serves no client: its database file is the way back.
    // Without a quorum the survivor never reports ready, and its stop took longer than 60 s on every
    // release (stop 27; the cause, the unit's stop timeout or the guard's record step, is not found yet).
    const stopped = bed.inside(survivor, 'systemctl stop etcd', { timeout: 240_000 });
    assert.equal(stopped.status, 0, `stopping the survivor: ${stopped.stderr}\n${bed.logs()}`);
    const db = bed.inside(survivor, 'base64 -w0 /var/lib/etcd/member/snap/db', { timeout: 60_000 });
    assert.equal(db.status, 0, db.stderr);
    const copy = path.join(bed.dir, 'survivor-db-copy.db');
    writeFileSync(copy, Buffer.from(db.stdout.trim(), 'base64'), { mode: 0o600 });
    const plain = bed.runbook('restore.sh', [copy, '--yes']);
    assert.equal(plain.status, 2, plain.stderr);
    assert.match(plain.stderr, /--from-data-dir-copy/);
    const r = bed.runbook('restore.sh', [copy, '--from-data-dir-copy', '--yes']);
    assert.equal(r.status, 0, `${r.stderr}\n${bed.logs()}`);
    for (const m of bed.members) assertReadBack(bed, m, '/lost/two/', acked);
    assert.equal(bed.runbook('health.sh').status, 0);
  });

  await t.test('all three emptied: all refuse', async () => {
    for (const m of bed.members) loseDisk(bed, m);
    for (const m of bed.members) bed.inside(m, 'systemctl start --no-block etcd');
    for (const m of bed.members) await waitRefused(bed, m);
    assert.equal(bed.runbook('health.sh').status, 1);
  });
});
