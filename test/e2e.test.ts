/**
 * End to end: a real 3-member etcd cluster on 127.0.0.1, .2 and .3, started from the generated units and
 * etcd.conf files (test/harness/cluster.ts says how), then used and attacked as operators would.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir } from './helpers.js';
import { sleep, startLoopbackCluster } from './harness/cluster.js';

test('e2e: a 3-member etcd cluster on 127.0.0.1-3 from the generated files', { timeout: 240_000 }, async (t) => {
  const cluster = await startLoopbackCluster(t);
  if (!cluster) return;
  const { out, ns, etcdctl, logs } = cluster;

  await t.test('every member is healthy and started, through aliases.sh from another directory', () => {
    const health = etcdctl('etcdctl_cluster', 'endpoint health -w table', '/');
    assert.equal(health.status, 0, health.stderr);
    for (let i = 1; i <= 3; i++) assert.match(health.stdout, new RegExp(`https://127\\.0\\.0\\.${i}:2379 \\|\\s+true`));
    const members = etcdctl('etcdctl_cluster', 'member list -w simple');
    assert.equal(members.status, 0, members.stderr);
    for (const m of cluster.members) assert.match(members.stdout, new RegExp(`, started, ${m}, https://127\\.0\\.0\\.\\d:2380, https://127\\.0\\.0\\.\\d:2379`));
  });

  await t.test('a write through one member is read back from another, also through etcdctl.env', () => {
    assert.equal(etcdctl('etcdctl_m1', 'put /e2e/greeting hello').status, 0);
    const read = etcdctl('etcdctl_m3', 'get /e2e/greeting --print-value-only');
    assert.equal(read.stdout.trim(), 'hello', read.stderr);
    const env = ns('bash', ['-c', `. ${path.join(out, 'admin', 'etcdctl.env')} && etcdctl get /e2e/greeting --print-value-only`], { cwd: '/' });
    assert.equal(env.stdout.trim(), 'hello', env.stderr);
  });

  await t.test('peers accept each other: no connection was refused for its certificate', () => {
    // A client hanging up mid-handshake is logged as rejected too ("EOF"); a certificate problem says x509.
    const refused = logs(Infinity).split('\n').filter((line) => line.includes('rejected connection') && /x509|certificate/.test(line));
    assert.deepEqual(refused, []);
  });

  await t.test('a client without a certificate is refused', () => {
    const r = ns('etcdctl', ['--endpoints=https://127.0.0.2:2379', `--cacert=${path.join(out, 'admin', 'pki', 'ca.crt')}`, '--command-timeout=5s', 'get', '/e2e/greeting']);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /hello/);
    assert.match(r.stderr, /certificate|deadline|handshake/i);
  });

  await t.test('a client with a certificate from another CA is refused', (tt) => {
    const other = tempDir(tt, 'etcd-gen-e2e-foreign-');
    writeFileSync(path.join(other, 'cluster.yaml'), `name: intruder\netcd: { version: "${cluster.version}" }\nnodes: [ { name: x, host: 127.0.0.9 } ]\n`);
    assert.equal(runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: other }).status, 0);
    const r = ns('etcdctl', [
      '--endpoints=https://127.0.0.2:2379',
      `--cacert=${path.join(out, 'admin', 'pki', 'ca.crt')}`,
      `--cert=${path.join(other, 'out', 'admin', 'pki', 'admin.crt')}`,
      `--key=${path.join(other, 'out', 'admin', 'pki', 'admin.key')}`,
      '--command-timeout=5s',
      'get',
      '/e2e/greeting',
    ]);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /hello/);
  });

  await t.test('with one member killed, writes are still accepted', async () => {
    await cluster.kill('m1');
    // If the dead member led, the others elect a new leader first; a write sent during the election may
    // time out, and etcdctl does not retry a Put. Like any client, retry until the election is over.
    let write = etcdctl('etcdctl_m2', 'put /e2e/after-kill still-here --command-timeout=5s');
    for (let i = 0; i < 30 && write.status !== 0; i++) {
      await sleep(1000);
      write = etcdctl('etcdctl_m2', 'put /e2e/after-kill still-here --command-timeout=5s');
    }
    assert.equal(write.status, 0, `${write.stderr}\n${logs()}`);
    assert.equal(etcdctl('etcdctl_m3', 'get /e2e/after-kill --print-value-only').stdout.trim(), 'still-here');
    assert.equal(etcdctl('etcdctl_m2', 'get /e2e/greeting --print-value-only').stdout.trim(), 'hello');
    const health = etcdctl('etcdctl_cluster', 'endpoint health');
    assert.notEqual(health.status, 0, 'the cluster reports the dead member');
    assert.match(health.stdout + health.stderr, /127\.0\.0\.1:2379 is unhealthy/);
  });
});
