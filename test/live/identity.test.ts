/**
 * Issue 10, part 1, live: changes of what a running member checks of its peers, against a 3-member etcd
 * cluster from the loopback harness (test/harness/cluster.ts), with a client writing through every
 * endpoint while the runbooks run.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { needTools, runCli } from '../helpers.js';
import { sleep, startLoopbackCluster, type LoopbackCluster } from '../harness/cluster.js';
import { testEachRelease } from '../harness/releases.js';
import { assertWrites, failedWrites, startClusterWriter } from '../harness/writer.js';

/** A put that rides out a leader election, as a client would. */
async function put(cluster: LoopbackCluster, key: string, value: string, fn = 'etcdctl_cluster'): Promise<void> {
  let r = cluster.etcdctl(fn, `put ${key} ${value} --command-timeout=5s`);
  for (let i = 0; i < 20 && r.status !== 0; i++) {
    await sleep(1000);
    r = cluster.etcdctl(fn, `put ${key} ${value} --command-timeout=5s`);
  }
  assert.equal(r.status, 0, `put ${key}: ${r.stderr}\n${cluster.logs()}`);
}


/**
 * Issue 10, part 1 (the field report): an edit of cluster.yaml that changed every member's peer CN built
 * with exit 0, rotate-certs.sh installed it without a restart, and the cluster lost quorum as members
 * restarted. Here: such a build is refused, the pinned rename rolls out, and rotate-certs.sh restarts what
 * a running member checks and stops at a member that refuses its peers.
 */
// The field report's release line: 3.5 (it was 3.5.16).
testEachRelease('changes of what a running member checks, against a live 3-member etcd cluster', '3.5', { timeout: 900_000 }, async (t, release) => {
  const cluster = await startLoopbackCluster(t, { name: 'id', release });
  if (!cluster) return;
  if (!needTools(t, ['openssl', 'tar'])) return;
  const { runbook, logs } = cluster;

  await t.test('a rename that would change the peer CN and the token is refused; pinned, it rolls out with no failed write and survives restarts', async () => {
    const manifest = () => readFileSync(path.join(cluster.out, 'manifest.json'), 'utf8');
    const before = manifest();
    const original = readFileSync(cluster.configFile, 'utf8');
    writeFileSync(cluster.configFile, original.replace(/^name: id$/m, 'name: id2'));
    const refused = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });
    assert.equal(refused.status, 2, `the field report: a rename built with exit 0 and cut members off\n${refused.stderr}`);
    assert.match(refused.stderr, /cluster\.yaml:1:7: \$\.name: the peer certificates' CN would change from id-etcd-peer to id2-etcd-peer[^\n]*set tls\.peerCommonName: id-etcd-peer/);
    assert.match(refused.stderr, /\$\.name: the initial cluster token would change from (id-[0-9a-f]{8}) to id2-[0-9a-f]{8}[^\n]*set token: \1/);
    assert.equal(manifest(), before, 'nothing was written');
    const plan = runCli(['plan', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });
    assert.equal(plan.status, 2, plan.stderr);

    // Stated intent: the name changes, the CN and the token stay.
    const token = /set token: (\S+)/.exec(refused.stderr)?.[1];
    writeFileSync(cluster.configFile, original.replace(/^name: id$/m, `name: id2\ntoken: ${token}\ntls: { peerCommonName: id-etcd-peer }`));
    const pinned = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });
    assert.equal(pinned.status, 0, pinned.stderr);
    assert.doesNotMatch(pinned.stderr, /reissued/, 'no certificate changes');
    const writer = await startClusterWriter(cluster, '/id/rename/');
    const r = runbook('rotate-certs.sh', ['--yes']);
    const writes = await writer.stop();
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    assert.doesNotMatch(r.stderr, /restarting etcd/, 'nothing a member checks changed');
    assert.equal((r.stderr.match(/every member accepts every other's peer certificate/g) ?? []).length, 3, r.stderr);
    t.diagnostic(`rotate-certs.sh after a pinned rename: ${writes.length} writes, ${failedWrites(writes).length} failed`);
    assertWrites(writer, writes, 5, 'rotate-certs.sh after a pinned rename');
    // Every member restarted in turn (what the field report lost quorum to) keeps the cluster whole.
    for (const m of cluster.members) {
      await cluster.stop(m);
      cluster.start(m);
      assert.ok(await cluster.waitHealthy(60_000), `${m} rejoined\n${logs()}`);
    }
    assert.equal(runbook('health.sh').status, 0);
  });

  await t.test('rotate-certs.sh restarts members whose running settings differ from etcd.conf, and stops at a member that refuses its peers', async () => {
    // A settings change etcd reads only at start (the metrics listener): every member restarts, one at a time.
    writeFileSync(cluster.configFile, readFileSync(cluster.configFile, 'utf8').replace(/^paths: /m, 'ports: { metrics: 2391 }\npaths: '));
    const built = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stderr, /etcd\.conf changed on m1, m2, m3: runbooks\/rotate-certs\.sh/);
    const writer = await startClusterWriter(cluster, '/id/settings/');
    const r = runbook('rotate-certs.sh', ['--yes']);
    const writes = await writer.stop();
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    assert.equal((r.stderr.match(/restarting etcd: its running settings differ from etcd\.conf \(ETCD_LISTEN_METRICS_URLS\)/g) ?? []).length, 3, r.stderr);
    t.diagnostic(`rotate-certs.sh restarting every member for a settings change: ${writes.length} writes, ${failedWrites(writes).length} failed`);
    assertWrites(writer, writes, 10, 'rotate-certs.sh restarting every member');
    for (const m of cluster.members) {
      const metrics = cluster.ns('bash', ['-c', `exec 3<>/dev/tcp/${cluster.host(m)}/2391 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`]);
      assert.match(metrics.stdout, /"health":"true"/, `${m} serves /health on the new metrics port`);
    }

    // What the field report's members did: one member requires a peer CN the others do not carry. It is
    // restarted, refuses its peers, and the runbook stops there, with the others serving.
    const m2conf = path.join(cluster.out, 'nodes', 'm2', 'root', 'etc', 'etcd', 'etcd.conf');
    const good = readFileSync(m2conf, 'utf8');
    writeFileSync(m2conf, good.replace(/^ETCD_PEER_CERT_ALLOWED_CN=.*$/m, "ETCD_PEER_CERT_ALLOWED_CN='someone-else'"));
    const stopped = runbook('rotate-certs.sh', ['--yes'], { env: { ETCD_GEN_WAIT: '20' } });
    assert.equal(stopped.status, 1, stopped.stderr);
    assert.match(stopped.stderr, /m2: installed; restarting etcd: its running settings differ from etcd\.conf \(ETCD_PEER_CERT_ALLOWED_CN\)/);
    assert.match(stopped.stderr, /m[13] -> m2: [^;]*(bad certificate|alert)/, 'says which member refused which, as openssl saw it');
    assert.doesNotMatch(stopped.stderr, /^rotate-certs\.sh: done/m);
    for (const m of ['m1', 'm3']) assert.equal(cluster.etcdctl(`etcdctl_${m}`, 'endpoint health').status, 0, `${m} still serves`);
    await put(cluster, '/id/while-m2-refuses', 'quorum', 'etcdctl_m1');

    // The good file back: the next run starts with the member that refuses, and finishes.
    writeFileSync(m2conf, good);
    const again = runbook('rotate-certs.sh', ['--yes']);
    assert.equal(again.status, 0, `${again.stderr}\n${logs()}`);
    assert.match(again.stderr, /installing on the members that refuse first: m2/);
    assert.equal(runbook('health.sh').status, 0);
  });
});
