/**
 * `etcd-gen status` against a real 3-member cluster from our files (the loopback harness): it finds and
 * names each difference from out/, with its exit code, and reads the certificate every member serves on
 * its client and its peer URL (the peer port refuses the admin certificate; under TLS 1.3 the server's
 * certificate arrives first). Each scenario ends where the next one starts from a cluster that is what
 * out/ describes, until the last two take members away.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { cliPath, runCli } from '../helpers.js';
import { sleep, startLoopbackCluster, type LoopbackCluster } from '../harness/cluster.js';
import { cachedRelease, matrixRows, testEachRelease, type TestRelease } from '../harness/releases.js';

const MEMBER_BIN = '/opt/etcd-gen-test/bin';

interface StatusJson {
  ok: boolean;
  elapsedMs: number;
  quorum: boolean;
  clusterId: string | null;
  clusterVersion: string | null;
  members: { id: string; name: string; learner: boolean }[] | null;
  alarms: { memberId: string; alarm: string }[] | null;
  endpoints: { name: string; status: { ok: boolean; value?: { release: string; leader: string } }; server: { ok: boolean; value?: { sha256: string; protocol: string; trusted: boolean } }; peer: { ok: boolean; error?: string; value?: { sha256: string; protocol: string; trusted: boolean } } }[];
  differences: { kind: string; member?: string; message: string }[];
  notChecked: string[];
}

function status(cluster: LoopbackCluster): { code: number | null; json: StatusJson; ms: number; stderr: string } {
  const start = Date.now();
  const r = cluster.ns(process.execPath, [cliPath, 'status', 'cluster.yaml', '-o', 'out', '--json'], { cwd: cluster.dir, timeout: 60_000 });
  const ms = Date.now() - start;
  let json: StatusJson;
  try {
    json = JSON.parse(r.stdout) as StatusJson;
  } catch {
    assert.fail(`status printed no JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.status, json, ms, stderr: r.stderr };
}

const fileSha = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;
const pkiOf = (cluster: LoopbackCluster, m: string) => path.join(cluster.out, 'nodes', m, 'root', 'etc', 'etcd', 'pki');
/** The member's installed copy of its pki directory (what etcd reads at each handshake). */
const installedPki = (cluster: LoopbackCluster, m: string) => path.join(cluster.dir, `root-${m}`, 'etc', 'etcd', 'pki');
const kinds = (s: { json: StatusJson }) => s.json.differences.map((d) => `${d.kind}:${d.member ?? '-'}`).sort();

/**
 * Another release for one member: a newer cached patch of the same line when there is one (3.5.16 ->
 * 3.5.36: a member of a newer patch joins as it is), else the newest cached release of the next line (a
 * newer member joins an older cluster; etcd refuses the other way round). Null for the newest release.
 */
function otherRelease(version: string): TestRelease | null {
  const [, minor = 0, patch = 0] = version.split('.').map(Number);
  const rows = matrixRows().map((r) => r.version);
  const pick = (vs: string[]) => vs.map(cachedRelease).find((r): r is TestRelease => r !== null) ?? null;
  const byPatchDesc = (vs: string[]) => vs.sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]));
  const sameLine = byPatchDesc(rows.filter((v) => Number(v.split('.')[1]) === minor && Number(v.split('.')[2]) > patch));
  return pick(sameLine) ?? pick(byPatchDesc(rows.filter((v) => Number(v.split('.')[1]) === minor + 1)));
}

async function healthy(t: TestContext, cluster: LoopbackCluster, what: string): Promise<void> {
  // The cluster version and the members' views settle a moment after endpoint health passes.
  let s = status(cluster);
  for (let i = 0; i < 20 && s.code !== 0; i++) {
    await sleep(500);
    s = status(cluster);
  }
  assert.equal(s.code, 0, `${what}: exit 0 on a cluster that is what out/ describes: ${JSON.stringify(s.json.differences)} ${s.stderr}`);
  assert.deepEqual(s.json.differences, []);
  t.diagnostic(`${what}: status exit 0, reading ${s.json.elapsedMs} ms, command ${s.ms} ms`);
}

testEachRelease('etcd-gen status', 'every', { timeout: 900_000 }, async (t, release) => {
  const probe = await startLoopbackCluster(t, { name: 'status', release, memberBin: MEMBER_BIN });
  if (!probe) return;
  const cluster = probe;
  const other = otherRelease(cluster.version);

  await t.test('a healthy cluster: exit 0, every served certificate is out/\'s, state/observed.json written', async () => {
    await healthy(t, cluster, 'healthy');
    const s = status(cluster);
    for (const m of cluster.members) {
      const e = s.json.endpoints.find((x) => x.name === m);
      assert.ok(e?.status.ok && e.status.value?.release === cluster.version, `${m} answers with its release`);
      assert.equal(e.server.value?.sha256, fileSha(path.join(pkiOf(cluster, m), 'server.crt')), `${m}'s client URL serves out/'s server certificate`);
      assert.ok(e.peer.ok, `${m}'s peer URL shows its certificate without a client certificate: ${e.peer.error}`);
      assert.equal(e.peer.value?.sha256, fileSha(path.join(pkiOf(cluster, m), 'peer.crt')), `${m}'s peer URL serves out/'s peer certificate`);
      assert.equal(e.peer.value?.protocol, 'TLSv1.3');
      assert.equal(e.peer.value?.trusted, true);
      t.diagnostic(`etcd ${cluster.version} ${m}: peer port showed its certificate under ${e.peer.value?.protocol}; client port ${e.server.value?.protocol}`);
    }
    assert.equal(s.json.members?.length, 3);
    assert.equal(s.json.clusterVersion, `${cluster.version.split('.').slice(0, 2).join('.')}.0`);
    const observed = JSON.parse(readFileSync(path.join(cluster.dir, 'state', 'observed.json'), 'utf8')) as { clusterId: string; members: { name: string; release: string }[]; served: { name: string; server: string }[] };
    assert.equal(observed.clusterId, s.json.clusterId);
    assert.deepEqual(observed.members.map((m) => `${m.name} ${m.release}`), cluster.members.map((m) => `${m} ${cluster.version}`));
    assert.equal(observed.served.find((x) => x.name === 'm1')?.server, fileSha(path.join(pkiOf(cluster, 'm1'), 'server.crt')));
    const list = cluster.etcdctl('etcdctl_cluster', 'member list -w json');
    // etcdctl prints the uint64 as a JSON number, beyond a double's precision: read its digits.
    const clusterId = /"cluster_id":(\d+)/.exec(list.stdout)?.[1] ?? '';
    assert.equal(observed.clusterId, BigInt(clusterId).toString(16), 'the cluster id is etcdctl\'s, in hex');
  });

  await t.test('a served certificate that is not out/\'s: exit 1, named', async () => {
    // m2 serves m1's server certificate (etcd reads its certificate files at each handshake).
    const pki = installedPki(cluster, 'm2');
    for (const f of ['server.crt', 'server.key']) copyFileSync(path.join(pki, f), path.join(pki, `${f}.keep`));
    copyFileSync(path.join(installedPki(cluster, 'm1'), 'server.crt'), path.join(pki, 'server.crt'));
    copyFileSync(path.join(installedPki(cluster, 'm1'), 'server.key'), path.join(pki, 'server.key'));
    let s: ReturnType<typeof status>;
    try {
      s = status(cluster);
    } finally {
      for (const f of ['server.crt', 'server.key']) copyFileSync(path.join(pki, `${f}.keep`), path.join(pki, f));
    }
    assert.equal(s.code, 1, s.stderr);
    // m1's certificate does not name m2's address: a client refuses it, and status says so, yet still reads m2.
    assert.deepEqual(kinds(s), ['certificate-not-out:m2', 'certificate-untrusted:m2']);
    assert.match(s.json.differences[0]?.message ?? '', /m2 serves a server certificate on https:\/\/127\.0\.0\.2:2379 that is not out\/'s/);
    assert.match(s.json.differences[1]?.message ?? '', /refused by a client with out\/'s CA bundle: .*127\.0\.0\.2/);
    await healthy(t, cluster, 'certificate restored');
  });

  await t.test('a renewal built but not deployed: exit 1 until the member has it', async () => {
    const before = fileSha(path.join(pkiOf(cluster, 'm3'), 'peer.crt'));
    const built = runCli(['build', 'cluster.yaml', '-o', 'out', '--renew', 'nodes/m3/peer'], { cwd: cluster.dir });
    assert.equal(built.status, 0, built.stderr);
    assert.notEqual(fileSha(path.join(pkiOf(cluster, 'm3'), 'peer.crt')), before, 'the build renewed m3\'s peer certificate');
    const s = status(cluster);
    assert.equal(s.code, 1, s.stderr);
    assert.deepEqual(kinds(s), ['certificate-not-out:m3']);
    assert.match(s.json.differences[0]?.message ?? '', /m3 serves a peer certificate on https:\/\/127\.0\.0\.3:2380 that is not out\/'s/);
    // Deployed as rotate-certs.sh does it for a leaf: the files replaced in place, no restart (etcd
    // reads them at each handshake). The harness's deploy would replace the directory under the running member.
    for (const f of ['peer.crt', 'peer.key']) copyFileSync(path.join(pkiOf(cluster, 'm3'), f), path.join(installedPki(cluster, 'm3'), f));
    await healthy(t, cluster, 'renewal deployed');
  });

  await t.test('a raised alarm (NOSPACE on a tiny quota): exit 1, named', async () => {
    // A 2 MiB backend quota on m1 alone, through the unit's optional EnvironmentFile: m1 raises NOSPACE
    // for the whole cluster once its backend is over it.
    writeFileSync(path.join(cluster.dir, 'run-m1', 'join.env'), 'ETCD_QUOTA_BACKEND_BYTES=2097152\n');
    await cluster.stop('m1');
    cluster.start('m1');
    assert.ok(await cluster.waitHealthy(60_000), cluster.logs());
    const aliases = path.join(cluster.out, 'admin', 'aliases.sh');
    let full = '';
    for (let i = 0; i < 30 && !full; i++) {
      const r = cluster.ns('bash', ['-c', `. ${aliases} && head -c 300000 /dev/zero | tr '\\0' x | etcdctl_m1 put /status/big/${i} --command-timeout=10s`]);
      if (r.status !== 0) full = r.stderr;
    }
    assert.match(full, /database space exceeded/);
    const s = status(cluster);
    assert.equal(s.code, 1, s.stderr);
    assert.ok(kinds(s).includes('alarm:m1'), JSON.stringify(s.json.differences));
    assert.match(s.json.differences.find((d) => d.kind === 'alarm')?.message ?? '', /^alarm NOSPACE raised on member m1 \([0-9a-f]+\)$/);
    // The quota m1 reports (3.6 on: dbSizeQuota), when its release reports one, is the one it was given.
    const m1 = s.json.endpoints.find((e) => e.name === 'm1')?.status.value as { dbSizeQuota: number | null; dbSize: number } | undefined;
    if (m1?.dbSizeQuota !== null) assert.equal(m1?.dbSizeQuota, 2097152);
    t.diagnostic(`etcd ${cluster.version}: m1 under NOSPACE: dbSize ${m1?.dbSize}, reported quota ${m1?.dbSizeQuota ?? 'none (release does not report it)'}`);
    // Back to out/'s cluster: the keys deleted, m1 defragmented and restarted without the quota, the alarm disarmed.
    assert.equal(cluster.etcdctl('etcdctl_cluster', 'del --prefix /status/big/').status, 0);
    assert.equal(cluster.etcdctl('etcdctl_m1', 'defrag --command-timeout=30s').status, 0);
    // Disarmed before m1 restarts: from 3.5 on, endpoint health (the harness's wait) fails while an alarm is raised.
    const disarm = cluster.etcdctl('etcdctl_cluster', 'alarm disarm');
    assert.equal(disarm.status, 0, disarm.stderr);
    writeFileSync(path.join(cluster.dir, 'run-m1', 'join.env'), '');
    await cluster.stop('m1');
    cluster.start('m1');
    assert.ok(await cluster.waitHealthy(60_000), cluster.logs());
    await healthy(t, cluster, 'alarm disarmed');
  });

  await t.test('a member on another release: exit 1, named', async (tt) => {
    if (!other) {
      // Not a skip of the suite: this one scenario needs a second, newer cached release (none for the newest).
      process.stderr.write(`\n!!! SKIPPED "${tt.name}" on etcd ${cluster.version}: no newer cached release of its line or the next. This check did NOT run. !!!\n\n`);
      tt.skip('no newer cached release of its line or the next');
      return;
    }
    await cluster.stop('m3');
    const bin = path.join(cluster.dir, 'bin-m3', 'etcd');
    copyFileSync(bin, `${bin}.keep`);
    copyFileSync(path.join(other.bin, 'etcd'), bin);
    cluster.start('m3');
    assert.ok(await cluster.waitHealthy(60_000), cluster.logs());
    let s = status(cluster);
    for (let i = 0; i < 20 && !kinds(s).includes('release:m3'); i++) {
      await sleep(500);
      s = status(cluster);
    }
    assert.equal(s.code, 1, s.stderr);
    assert.deepEqual(kinds(s), ['release:m3']);
    assert.equal(s.json.differences[0]?.message, `m3 runs etcd ${other.version}, out/ has ${cluster.version}`);
    const peer = s.json.endpoints.find((e) => e.name === 'm3')?.peer;
    assert.equal(peer?.value?.sha256, fileSha(path.join(pkiOf(cluster, 'm3'), 'peer.crt')), `etcd ${other.version}'s peer port shows its certificate too`);
    t.diagnostic(`etcd ${other.version} (m3): peer port showed its certificate under ${peer?.value?.protocol}`);
    await cluster.stop('m3');
    copyFileSync(`${bin}.keep`, bin);
    cluster.start('m3');
    assert.ok(await cluster.waitHealthy(60_000), cluster.logs());
    await healthy(t, cluster, 'release restored');
  });

  await t.test('a member down: exit 1, named, the others read in full', async () => {
    await cluster.kill('m3');
    const s = status(cluster);
    assert.equal(s.code, 1, s.stderr);
    assert.deepEqual(kinds(s), ['member-down:m3']);
    assert.match(s.json.differences[0]?.message ?? '', /^m3 does not answer at https:\/\/127\.0\.0\.3:2379: ECONNREFUSED$/);
    assert.ok(s.json.notChecked.some((n) => n.startsWith('m3: the peer certificate')), s.json.notChecked.join('\n'));
    assert.equal(s.json.members?.length, 3, 'member list still has m3');
    t.diagnostic(`one member down: status exit 1, reading ${s.json.elapsedMs} ms, command ${s.ms} ms`);
  });

  await t.test('lost quorum: exit 4, per member what endpoint status gives, the rest not checked', async () => {
    await cluster.kill('m2');
    const s = status(cluster);
    assert.equal(s.code, 4, s.stderr);
    assert.equal(s.json.quorum, false);
    assert.equal(s.json.members, null);
    assert.equal(s.json.alarms, null);
    assert.ok(s.json.endpoints.find((e) => e.name === 'm1')?.status.ok, 'm1 still answers endpoint status');
    assert.ok(kinds(s).includes('member-down:m2') && kinds(s).includes('member-down:m3'), JSON.stringify(s.json.differences));
    assert.ok(s.json.notChecked.some((n) => /no quorum/.test(n)), s.json.notChecked.join('\n'));
    t.diagnostic(`no quorum: status exit 4, reading ${s.json.elapsedMs} ms, command ${s.ms} ms`);
    assert.ok(existsSync(path.join(cluster.dir, 'state', 'observed.json')), 'the last observation with a quorum is kept');
  });
});
