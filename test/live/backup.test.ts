/**
 * The scheduled backup's script (out/backup/root/usr/local/sbin/etcd-backup), live: run as its service
 * runs it (the credentials and state directories systemd would give it) against a real 3-member cluster.
 * Snapshots rotate at `keep`, the upload program gets each new one, a snapshot changed on disk is set apart
 * and fails the run, a member down does not stop a backup, and restore.sh restores the newest as it is.
 * The timer itself firing on a booted host is the real-hosts suite's.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers.js';
import { startLoopbackCluster } from '../harness/cluster.js';
import { testEachRelease } from '../harness/releases.js';

testEachRelease('etcd-backup keeps the newest checked snapshots, sets a changed one apart, and restore.sh takes the newest', 'newest', { timeout: 600_000 }, async (t, release) => {
  const cluster = await startLoopbackCluster(t, { name: 'bk', release, extraYaml: 'backup: { enabled: true, keep: 3 }\n' });
  if (!cluster) return;
  const root = path.join(cluster.out, 'backup', 'root');
  const state = path.join(tempDir(t), 'state');
  const uploaded = path.join(tempDir(t), 'uploaded');
  mkdirSync(uploaded);
  const hook = path.join(tempDir(t), 'upload');
  writeFileSync(hook, `#!/bin/sh\ncp "$1" "$2" ${uploaded}/\n`, { mode: 0o755 });
  const backup = () =>
    cluster.ns('bash', [path.join(root, 'usr', 'local', 'sbin', 'etcd-backup')], {
      timeout: 120_000,
      env: { CREDENTIALS_DIRECTORY: path.join(root, 'etc', 'etcd-backup', 'pki'), STATE_DIRECTORY: state, ETCD_BACKUP_UPLOAD: hook },
    });
  const snapshots = () => readdirSync(state).filter((f) => f.endsWith('.db')).sort();
  const put = (key: string, value: string) => assert.equal(cluster.etcdctl('etcdctl_cluster', `put ${key} ${value}`).status, 0);

  for (let i = 1; i <= 4; i++) {
    put(`/bk/${i}`, String(i));
    const r = backup();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /saved and checked: .*etcd-bk-\d{8}T\d{6}Z\.db from https:\/\/127\.0\.0\.\d:2379/);
  }
  assert.equal(snapshots().length, 3, `keep: 3 -> ${snapshots().join(' ')}`);
  assert.equal(readdirSync(uploaded).filter((f) => f.endsWith('.db')).length, 4, 'every new snapshot was handed to the upload program');
  for (const s of snapshots()) assert.ok(readdirSync(state).includes(`${s}.sha256`), `${s} has its .sha256`);

  // A snapshot changed on disk: set apart, never deleted, and the run fails so that it is seen.
  const [oldest] = snapshots();
  const changed = path.join(state, oldest ?? '');
  const bytes = readFileSync(changed);
  bytes[100] = (bytes[100] ?? 0) ^ 0xff;
  writeFileSync(changed, bytes);
  put('/bk/5', '5');
  const flagged = backup();
  assert.equal(flagged.status, 1, flagged.stderr);
  assert.match(flagged.stderr, new RegExp(`${oldest?.replace(/\./g, '\\.')} does not match its SHA-256 .*set apart`));
  assert.ok(readdirSync(path.join(state, 'corrupt')).includes(oldest ?? ''), 'kept in corrupt/');
  assert.equal(snapshots().length, 3, 'a new one was still taken and the newest three kept');

  // A member down: the next member gives the snapshot.
  await cluster.stop('m1');
  put('/bk/6', '6');
  const oneDown = backup();
  assert.equal(oneDown.status, 0, oneDown.stderr);
  assert.match(oneDown.stderr, /from https:\/\/127\.0\.0\.[23]:2379/);
  cluster.start('m1');
  assert.ok(await cluster.waitHealthy(60_000), cluster.logs());

  // restore.sh takes the newest file as it is, .sha256 and all.
  put('/bk/after-backup', 'lost');
  const newest = path.join(state, snapshots().at(-1) ?? '');
  const restored = cluster.runbook('restore.sh', [newest, '--yes']);
  assert.equal(restored.status, 0, `${restored.stderr}\n${cluster.logs()}`);
  assert.equal(cluster.etcdctl('etcdctl_cluster', 'get /bk/6 --print-value-only').stdout.trim(), '6');
  assert.equal(cluster.etcdctl('etcdctl_cluster', 'get /bk/after-backup --print-value-only').stdout.trim(), '');
  t.diagnostic(`etcd ${cluster.version}: 6 runs, 3 kept, 1 set apart, restored from ${path.basename(newest)}`);
});
