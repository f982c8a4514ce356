/**
 * etcd.tuning and etcd.extraFlags, live: a cluster built with limits, timeouts and extra flags starts, and
 * etcd itself reports the values back (its /metrics, and the configuration it logs at start), so the
 * ETCD_* lines we write are the ones etcd reads, on each release's own names.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { envValue, startLoopbackCluster } from '../harness/cluster.js';
import { testEachRelease } from '../harness/releases.js';

const TUNING = {
  quotaBackendBytes: 4294967296,
  heartbeatIntervalMs: 150,
  electionTimeoutMs: 1500,
  snapshotCount: 20000,
  maxRequestBytes: 2097152,
};

testEachRelease('a tuned cluster starts with its limits, timeouts and extra flags, as etcd reports them', 'newest', { timeout: 300_000 }, async (t, release) => {
  const tuning = Object.entries(TUNING).map(([k, v]) => `${k}: ${v}`).join(', ');
  const cluster = await startLoopbackCluster(t, {
    name: 'tuned',
    release,
    etcdFields: `tuning: { ${tuning} }, extraFlags: { auto-compaction-mode: periodic, auto-compaction-retention: 2h, max-txn-ops: 256 }`,
  });
  if (!cluster) return;

  const conf = readFileSync(path.join(cluster.out, 'nodes', 'm1', 'root', 'etc', 'etcd', 'etcd.conf'), 'utf8');
  assert.equal(envValue(conf, 'ETCD_QUOTA_BACKEND_BYTES'), '4294967296');
  assert.equal(envValue(conf, 'ETCD_MAX_TXN_OPS'), '256');

  // The quota, from the member's own metrics.
  const metricsUrl = envValue(conf, 'ETCD_LISTEN_METRICS_URLS');
  const fetched = cluster.ns(process.execPath, ['-e', `fetch(${JSON.stringify(`${metricsUrl}/metrics`)}).then((r) => r.text()).then((b) => process.stdout.write(b))`], { timeout: 15_000 });
  assert.equal(fetched.status, 0, fetched.stderr);
  const quota = /^etcd_server_quota_backend_bytes ([0-9.e+]+)$/m.exec(fetched.stdout)?.[1];
  assert.equal(Number(quota), TUNING.quotaBackendBytes, 'etcd_server_quota_backend_bytes');

  // The rest, from the configuration etcd logs as it starts ("starting an etcd server").
  const started = cluster
    .logs(400)
    .split('\n')
    .find((l) => l.includes('"starting an etcd server"'));
  assert.ok(started, `etcd logged its configuration at start:\n${cluster.logs(40)}`);
  const logged = JSON.parse(started.slice(started.indexOf('{'))) as Record<string, unknown>;
  t.diagnostic(`etcd ${cluster.version} logged: ${['heartbeat-interval', 'election-timeout', 'snapshot-count', 'max-request-bytes', 'auto-compaction-mode', 'auto-compaction-retention', 'quota-backend-bytes'].map((k) => `${k}=${JSON.stringify(logged[k])}`).join(' ')}`);
  assert.equal(logged['heartbeat-interval'], '150ms');
  assert.equal(logged['election-timeout'], '1.5s');
  assert.equal(logged['snapshot-count'], TUNING.snapshotCount);
  assert.equal(logged['max-request-bytes'], TUNING.maxRequestBytes);
  assert.equal(logged['auto-compaction-mode'], 'periodic');
  assert.equal(logged['auto-compaction-retention'], '2h0m0s');
});
