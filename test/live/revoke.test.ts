/**
 * Revocation without a new CA: build --revoke puts certificates on the CA's revocation list (kept in the
 * secrets directory, reused byte for byte), every member gets it as DER with --client-crl-file and
 * --peer-crl-file, and certs lists it. Live: a real cluster refuses a revoked client certificate and a
 * revoked peer certificate, and keeps serving the certificates that replaced them.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { build } from '../../src/pipeline.js';
import { InputError, UsageError } from '../../src/diagnostics.js';
import { minimalCluster, needTools, readTree, run, runCli, tempDir } from '../helpers.js';
import { startLoopbackCluster } from '../harness/cluster.js';
import { testEachRelease } from '../harness/releases.js';

const T0 = new Date('2026-01-01T00:00:00Z');

function project(t: TestContext, source = minimalCluster) {
  const dir = tempDir(t);
  const config = path.join(dir, 'cluster.yaml');
  writeFileSync(config, source);
  const out = path.join(dir, 'out');
  const secrets = path.join(dir, 'secrets');
  return { dir, config, out, secrets, build: (o: { revoke?: string[]; now?: Date } = {}) => build({ configFile: config, outDir: out, secretsDir: secrets, now: o.now ?? T0, ...(o.revoke ? { revoke: o.revoke } : {}) }) };
}

const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber.toLowerCase().replace(/^0+/, '');

/** The serials a DER CRL lists, as openssl prints them. */
function crlSerials(file: string): string[] {
  const r = run('openssl', ['crl', '-inform', 'DER', '-in', file, '-noout', '-text']);
  assert.equal(r.status, 0, r.stderr);
  return [...r.stdout.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => (m[1] ?? '').toLowerCase().replace(/^0+/, '')).sort();
}

describe('revocation', () => {
  it('revokes by id (and reissues), by certificate file and by serial; members get the DER list and the flags', async (t) => {
    if (!needTools(t, ['openssl'])) return;
    const p = project(t);
    await p.build();
    const before = readTree(p.out);
    assert.ok(![...before.keys()].some((f) => f.endsWith('ca.crl')), 'no list before anything is revoked');
    assert.doesNotMatch(before.get('nodes/etcd1/root/etc/etcd/etcd.conf')?.contents ?? '', /CRL/);
    const oldAdmin = readFileSync(path.join(p.secrets, 'clients', 'admin.crt'), 'utf8');
    const oldPeer = path.join(p.dir, 'old-peer.crt');
    copyFileSync(path.join(p.secrets, 'nodes', 'etcd2', 'peer.crt'), oldPeer);
    // A certificate no longer in use (replaced by a renewal), revoked by its file.
    await build({ configFile: p.config, outDir: p.out, secretsDir: p.secrets, now: T0, renew: ['nodes/etcd2/peer'] });

    const result = await p.build({ revoke: ['clients/admin', oldPeer, '0a:0b:0c'], now: new Date(T0.getTime() + 1000) });
    assert.equal(result.pki.pairs.get('clients/admin')?.action, 'reissued', 'a certificate revoked by its id is reissued');
    assert.deepEqual(result.crl?.added.map((a) => a.from), ['clients/admin', oldPeer, '0a:0b:0c']);
    const tree = readTree(p.out);
    for (const m of ['etcd1', 'etcd2', 'etcd3']) {
      const conf = tree.get(`nodes/${m}/root/etc/etcd/etcd.conf`)?.contents ?? '';
      assert.match(conf, /^ETCD_CLIENT_CRL_FILE=\/etc\/etcd\/pki\/ca\.crl$/m);
      assert.match(conf, /^ETCD_PEER_CRL_FILE=\/etc\/etcd\/pki\/ca\.crl$/m);
      assert.deepEqual(crlSerials(path.join(p.out, 'nodes', m, 'root', 'etc', 'etcd', 'pki', 'ca.crl')), [serialOf(oldAdmin), serialOf(readFileSync(oldPeer, 'utf8')), 'a0b0c'].sort());
    }
    const crl = path.join(p.out, 'nodes', 'etcd1', 'root', 'etc', 'etcd', 'pki', 'ca.crl');
    const verified = run('openssl', ['crl', '-inform', 'DER', '-in', crl, '-noout', '-CAfile', path.join(p.secrets, 'ca.crt')]);
    assert.match(verified.stderr + verified.stdout, /verify OK/, 'signed by the CA');
    const manifest = JSON.parse(tree.get('manifest.json')?.contents ?? '{}') as { files: { path: string; sha256: string }[] };
    const entry = manifest.files.find((f) => f.path === 'nodes/etcd1/root/etc/etcd/pki/ca.crl');
    assert.ok(entry && entry.sha256 === run('sha256sum', [crl]).stdout.split(' ')[0], 'the manifest hashes the DER bytes');

    // The list is kept: a later build writes nothing, and a revocation already listed adds nothing.
    const again = await p.build({ now: new Date(T0.getTime() + 86_400_000) });
    assert.deepEqual(again.report.written, []);
    const repeat = await p.build({ revoke: ['0A0B0C'], now: new Date(T0.getTime() + 2 * 86_400_000) });
    assert.deepEqual(repeat.report.written, []);
    assert.equal(repeat.crl?.changed, false);
    const certs = runCli(['certs', p.config, '--secrets', p.secrets, '--json']);
    const listed = (JSON.parse(certs.stdout) as { revoked: { serial: string }[] }).revoked.map((r) => r.serial).sort();
    assert.deepEqual(listed, [serialOf(oldAdmin), serialOf(readFileSync(oldPeer, 'utf8')), 'a0b0c'].sort());
    const table = runCli(['certs', p.config, '--secrets', p.secrets]);
    assert.match(table.stdout, /REVOKED SERIAL +REVOKED ON\na0b0c +2026-01-01/);
  });

  it('refuses a serial still in use, the CA itself, a certificate of another CA, and a request naming nothing', async (t) => {
    const p = project(t);
    await p.build();
    const admin = readFileSync(path.join(p.secrets, 'clients', 'admin.crt'), 'utf8');
    await assert.rejects(p.build({ revoke: [new X509Certificate(admin).serialNumber] }), (e) => e instanceof UsageError && /is the serial of clients\/admin, which this build still uses: revoke it by its id \(--revoke clients\/admin\)/.test(e.message));
    await assert.rejects(p.build({ revoke: ['ca'] }), (e) => e instanceof UsageError && /rotate the CA/.test(e.message));
    await assert.rejects(p.build({ revoke: ['nodes/etcd9/peer'] }), (e) => e instanceof UsageError && /no certificate file, certificate id or hex serial/.test(e.message));
    const q = project(t, minimalCluster.replace('name: test', 'name: other'));
    await q.build();
    const foreign = path.join(q.secrets, 'clients', 'admin.crt');
    await assert.rejects(p.build({ revoke: [foreign] }), (e) => e instanceof InputError && /admin\.crt:1:1: \$: this certificate was not signed by this cluster's CA/.test(e.message));
    const notCert = path.join(p.dir, 'cluster.yaml');
    await assert.rejects(p.build({ revoke: [notCert] }), (e) => e instanceof InputError && /cluster\.yaml:1:1: \$: not a PEM certificate/.test(e.message));
    // A damaged list is never replaced: it is the only record of what was revoked.
    await p.build({ revoke: ['0a'] });
    writeFileSync(path.join(p.secrets, 'ca.crl'), 'garbage\n');
    await assert.rejects(p.build(), (e) => e instanceof InputError && /ca\.crl:1:1: \$: not a PEM certificate revocation list: restore it from backup/.test(e.message));
    assert.equal(readFileSync(path.join(p.secrets, 'ca.crl'), 'utf8'), 'garbage\n');
  });
});

describe('revocation, live', () => {
  testEachRelease('a real cluster refuses a revoked client certificate and a revoked peer certificate', 'newest', { timeout: 900_000 }, async (t, release) => {
    const cluster = await startLoopbackCluster(t, { name: 'crl', release });
    if (!cluster) return;
    if (!needTools(t, ['curl'])) return;
    const { dir, out } = cluster;
    const keep = (from: string, to: string) => copyFileSync(path.join(out, from), path.join(dir, to));
    keep('admin/pki/admin.crt', 'old-admin.crt');
    keep('admin/pki/admin.key', 'old-admin.key');
    keep('nodes/m1/root/etc/etcd/pki/peer.crt', 'old-peer.crt');
    keep('nodes/m1/root/etc/etcd/pki/peer.key', 'old-peer.key');
    assert.equal(cluster.etcdctl('etcdctl_cluster', 'put before revocation').status, 0);

    const built = runCli(['build', 'cluster.yaml', '-o', 'out', '--revoke', 'clients/admin', 'nodes/m1/peer'], { cwd: dir });
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stderr, /revoked clients\/admin .*\n.*revoked nodes\/m1\/peer/);
    // The first list changes etcd.conf: each member in turn gets the new files and a restart.
    for (const m of cluster.members) {
      await cluster.stop(m);
      cluster.start(m);
      assert.ok(await cluster.waitHealthy(60_000), `healthy after ${m}\n${cluster.logs()}`);
    }
    const ca = path.join(out, 'admin', 'pki', 'ca.crt');
    const get = (cert: string, key: string) =>
      cluster.ns('etcdctl', ['--endpoints', `https://${cluster.host('m2')}:2379`, '--cacert', ca, '--cert', cert, '--key', key, '--dial-timeout', '3s', '--command-timeout', '5s', 'get', 'before']);
    const fresh = get(path.join(out, 'admin', 'pki', 'admin.crt'), path.join(out, 'admin', 'pki', 'admin.key'));
    assert.equal(fresh.status, 0, `the new admin certificate works: ${fresh.stderr}`);
    assert.match(fresh.stdout, /revocation/);
    const revoked = get(path.join(dir, 'old-admin.crt'), path.join(dir, 'old-admin.key'));
    assert.notEqual(revoked.status, 0, 'the revoked admin certificate is refused');
    assert.match(readFileSync(path.join(dir, 'm2.log'), 'utf8'), /certificate serial [0-9a-f]+ revoked/);

    // The peer port, from 127.0.0.1 (the address m1's peer certificates name): old refused, new accepted.
    const peer = (cert: string, key: string) =>
      cluster.ns('curl', ['-sS', '--http1.1', '--max-time', '5', '--cacert', ca, '--cert', cert, '--key', key, `https://${cluster.host('m2')}:2380/members`]);
    const newPeer = peer(path.join(out, 'nodes/m1/root/etc/etcd/pki/peer.crt'), path.join(out, 'nodes/m1/root/etc/etcd/pki/peer.key'));
    assert.equal(newPeer.status, 0, `the reissued peer certificate is accepted: ${newPeer.stderr}`);
    const oldPeer = peer(path.join(dir, 'old-peer.crt'), path.join(dir, 'old-peer.key'));
    assert.notEqual(oldPeer.status, 0, 'the revoked peer certificate is refused on the peer port');
    assert.ok(await cluster.waitHealthy(), 'the cluster is healthy throughout');
  });
});
