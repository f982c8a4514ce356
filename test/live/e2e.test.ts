/**
 * End to end: a real 3-member etcd cluster on 127.0.0.1, .2 and .3, started from the generated units and
 * etcd.conf files (test/harness/cluster.ts says how), then used and attacked as operators would.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from '../helpers.js';
import { envValue, sleep, startLoopbackCluster, type LoopbackCluster } from '../harness/cluster.js';
import { testEachRelease } from '../harness/releases.js';

/**
 * An HTTP(S) GET from inside the cluster's network namespace, with node's own client (curl is not
 * installed everywhere). Gives the status and body, or the error it failed with.
 */
function get(cluster: LoopbackCluster, url: string, tls: { cert?: string; key?: string; ca?: string; localAddress?: string } = {}): { status: number; body: string } | { error: string } {
  const script = `
const [url, cert, key, ca, localAddress] = process.argv.slice(1);
const fs = require('node:fs');
const lib = url.startsWith('https:') ? require('node:https') : require('node:http');
const opts = { timeout: 5000, localAddress: localAddress || undefined };
if (cert) Object.assign(opts, { cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca) });
const req = lib.get(url, opts, (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body })));
  res.on('error', (e) => console.log(JSON.stringify({ error: String(e.code || e.message) })));
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => console.log(JSON.stringify({ error: String(e.code || e.message) })));
`;
  const r = cluster.ns(process.execPath, ['-e', script, url, tls.cert ?? '', tls.key ?? '', tls.ca ?? '', tls.localAddress ?? ''], { timeout: 15_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { status: number; body: string } | { error: string };
}

testEachRelease('e2e: a 3-member etcd cluster on 127.0.0.1-3 from the generated files', 'every', { timeout: 900_000 }, async (t, release) => {
  const cluster = await startLoopbackCluster(t, { release });
  if (!cluster) return;
  const { out, ns, etcdctl, logs } = cluster;

  await t.test('every member is healthy and started, through aliases.sh from another directory', () => {
    const health = etcdctl('etcdctl_cluster', 'endpoint health -w json', '/');
    assert.equal(health.status, 0, health.stderr);
    const rows = JSON.parse(health.stdout) as { endpoint: string; health: boolean }[];
    assert.deepEqual(rows.map((r) => [r.endpoint, r.health]).sort(), [1, 2, 3].map((i) => [`https://127.0.0.${i}:2379`, true]), health.stdout);
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

  await t.test('etcd says nothing against our settings: no unrecognized, deprecated or shadowed variable in its log', () => {
    const complaints = logs(Infinity)
      .split('\n')
      .filter((line) => /unrecognized environment variable|deprecated|is shadowed|unknown flag|will be ignored/i.test(line));
    assert.deepEqual(complaints, [], `etcd ${cluster.version} complained at start`);
  });

  await t.test('etcdctl and etcdutl say nothing against our environment: through aliases.sh, etcdctl.env and lib.sh', () => {
    const complaint = /unrecognized environment variable|deprecated|is shadowed|unknown flag|will be ignored|conflicting environment variable/i;
    const snap = path.join(cluster.dir, 'env-check.db');
    const lib = path.join(out, 'runbooks', 'lib.sh');
    const runs = [
      ['aliases.sh', etcdctl('etcdctl_cluster', 'endpoint status -w fields')],
      ['aliases.sh snapshot save', etcdctl('etcdctl_m1', `snapshot save ${snap}`)],
      ['etcdctl.env', ns('bash', ['-c', `. ${path.join(out, 'admin', 'etcdctl.env')} && etcdctl endpoint health`], { cwd: '/' })],
      ['lib.sh ectl', ns('bash', ['-c', `. ${lib} && ectl "$ENDPOINTS" member list -w fields`], { cwd: '/', env: { ETCD_GEN_REMOTE: 'true' } })],
      ['lib.sh snapshot_tool (etcdutl from 3.5)', ns('bash', ['-c', `. ${lib} && snapshot_tool snapshot status ${snap} -w json`], { cwd: '/', env: { ETCD_GEN_REMOTE: 'true' } })],
    ] as const;
    for (const [via, r] of runs) {
      assert.equal(r.status, 0, `${via}: ${r.stderr}`);
      const said = r.stderr.split('\n').filter((line) => complaint.test(line));
      assert.deepEqual(said, [], `etcd ${cluster.version}'s etcdctl/etcdutl complained about our environment (${via})`);
    }
  });

  await t.test('peers accept each other: no connection was refused for its certificate', () => {
    // A client hanging up mid-handshake is logged as rejected too ("EOF"); a certificate problem says x509.
    const refused = logs(Infinity).split('\n').filter((line) => line.includes('rejected connection') && /x509|certificate/.test(line));
    assert.deepEqual(refused, []);
  });

  await t.test('each member serves /health and /metrics over plain HTTP on a loopback address of its own', () => {
    let leaders = 0;
    for (const m of cluster.members) {
      const conf = readFileSync(path.join(out, 'nodes', m, 'root', 'etc', 'etcd', 'etcd.conf'), 'utf8');
      const metricsUrl = envValue(conf, 'ETCD_LISTEN_METRICS_URLS');
      assert.match(metricsUrl, /^http:\/\/127\.0\.0\.\d:2381$/);
      const health = get(cluster, `${metricsUrl}/health`);
      // 3.4 answers {"health":"true"}; 3.5 on add a "reason" (empty when healthy): check the meaning.
      assert.ok('status' in health && health.status === 200, `${m}: ${JSON.stringify(health)}`);
      assert.equal((JSON.parse(health.body) as { health?: unknown }).health, 'true', `${m}: ${health.body}`);
      const metrics = get(cluster, `${metricsUrl}/metrics`);
      assert.ok('status' in metrics && metrics.status === 200, `${m}: ${JSON.stringify(metrics)}`);
      assert.match(metrics.body, /^etcd_server_has_leader 1$/m);
      if (/^etcd_server_is_leader 1$/m.test(metrics.body)) leaders++;
    }
    // Three listeners, three members: exactly one of them says it leads.
    assert.equal(leaders, 1);
  });

  await t.test('the peer port takes only peer certificates: the admin and kube-apiserver certificates are refused', async () => {
    const pki = (m: string) => path.join(out, 'nodes', m, 'root', 'etc', 'etcd', 'pki');
    const ca = path.join(pki('m2'), 'ca.crt');
    // m1's peer certificate, from m1's address (etcd checks a peer's IP against its certificate).
    const peer = get(cluster, 'https://127.0.0.2:2380/version', { cert: path.join(pki('m1'), 'peer.crt'), key: path.join(pki('m1'), 'peer.key'), ca, localAddress: '127.0.0.1' });
    assert.ok('status' in peer && peer.status === 200, `a peer certificate is accepted: ${JSON.stringify(peer)}`);
    for (const [cert, key] of [
      [path.join(out, 'admin', 'pki', 'admin.crt'), path.join(out, 'admin', 'pki', 'admin.key')],
      [path.join(out, 'kubernetes', 'root', 'etc', 'kubernetes', 'pki', 'apiserver-etcd-client.crt'), path.join(out, 'kubernetes', 'root', 'etc', 'kubernetes', 'pki', 'apiserver-etcd-client.key')],
    ] as const) {
      const client = get(cluster, 'https://127.0.0.2:2380/version', { cert, key, ca, localAddress: '127.0.0.1' });
      assert.ok('error' in client, `${path.basename(cert)} is refused on the peer port: ${JSON.stringify(client)}`);
      // The same certificate is good on the client port: only the peer port's CN rule refused it.
      const asClient = get(cluster, 'https://127.0.0.2:2379/version', { cert, key, ca, localAddress: '127.0.0.1' });
      assert.ok('status' in asClient && asClient.status === 200, `${path.basename(cert)} on the client port: ${JSON.stringify(asClient)}`);
    }
    const refusals = readFileSync(path.join(cluster.dir, 'm2.log'), 'utf8').split('\n').filter((l) => l.includes('client certificate authentication failed'));
    assert.ok(refusals.length >= 2, `m2 logged both refusals:\n${logs()}`);
    assert.ok(await cluster.waitHealthy(), `the cluster stays healthy\n${logs()}`);
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

testEachRelease('a member whose connections leave from another address: its peers refuse it, unless its extraSANs name that address', 'newest', { timeout: 900_000 }, async (t, release) => {
  // m3's connections leave from 127.0.0.33, as from a second interface or through NAT; etcd checks a
  // peer's client certificate against the address the connection comes from.
  const from = (member: string) => (member === 'm3' ? '127.0.0.33' : undefined);
  const refusals = (cluster: LoopbackCluster) => cluster.logs(Infinity).split('\n').filter((l) => l.includes('rejected connection') && l.includes('127.0.0.33') && /x509|certificate/.test(l));

  await t.test('without extraSANs, m1 and m2 refuse m3\'s connections', async (t) => {
    const cluster = await startLoopbackCluster(t, { name: 'nat', sourceAddress: from, unhealthy: true, release });
    if (!cluster) return;
    for (let i = 0; i < 60 && refusals(cluster).length === 0; i++) await sleep(500);
    assert.ok(refusals(cluster).length > 0, `a refusal of 127.0.0.33 in the logs:\n${cluster.logs()}`);
    t.diagnostic(refusals(cluster)[0] ?? '');
  });

  await t.test('with extraSANs: [127.0.0.33] on m3, the cluster is healthy and no connection is refused', async (t) => {
    const cluster = await startLoopbackCluster(t, { name: 'nat', sourceAddress: from, nodeFields: (m) => (m === 'm3' ? 'extraSANs: [127.0.0.33]' : undefined), release });
    if (!cluster) return;
    assert.equal(cluster.etcdctl('etcdctl_m3', 'put /nat/from-m3 yes').status, 0);
    assert.equal(cluster.etcdctl('etcdctl_m1', 'get /nat/from-m3 --print-value-only').stdout.trim(), 'yes');
    assert.deepEqual(refusals(cluster), []);
  });
});
