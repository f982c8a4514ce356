import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { build } from '../src/pipeline.js';
import { InputError } from '../src/diagnostics.js';
import { minimalCluster, readTree, tempDir } from './helpers.js';

const DAY = 86_400_000;
const T0 = new Date('2026-01-01T00:00:00Z');

function project(t: TestContext, source = minimalCluster) {
  const dir = tempDir(t);
  const config = path.join(dir, 'cluster.yaml');
  writeFileSync(config, source);
  const out = path.join(dir, 'out');
  const secrets = path.join(dir, 'secrets');
  return { dir, config, out, secrets, build: (now = T0) => build({ configFile: config, outDir: out, secretsDir: secrets, now }) };
}

async function inputError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    return err.diagnostics.map((d) => `${d.file}: ${d.message}`).join('\n');
  }
  assert.fail('expected the build to be refused');
}

describe('pki', () => {
  it('issues a CA, two certificates per member and two client certificates, and keeps them private', async (t) => {
    const p = project(t);
    const result = await p.build();
    assert.deepEqual([...result.pki.pairs.keys()].sort(), [
      'ca', 'clients/admin', 'clients/apiserver-etcd-client',
      'nodes/etcd1/peer', 'nodes/etcd1/server', 'nodes/etcd2/peer', 'nodes/etcd2/server', 'nodes/etcd3/peer', 'nodes/etcd3/server',
    ]);
    assert.ok([...result.pki.pairs.values()].every((pair) => pair.action === 'issued'));
    assert.equal(statSync(p.secrets).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(p.secrets, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(p.secrets, 'nodes', 'etcd2', 'peer.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(path.join(p.secrets, '.gitignore'), 'utf8'), /^\*$/m);
    const tree = readTree(p.out);
    for (const [file, { mode, contents }] of tree) {
      if (file.endsWith('.key')) assert.equal(mode, 0o600, file);
      // Only key files and user-data (which embeds its member's keys, mode 0600) hold a private key.
      if (contents.includes('PRIVATE KEY')) assert.ok(file.endsWith('.key') || /^nodes\/[^/]+\/user-data\.yaml$/.test(file), `${file} holds a private key`);
      if (file.endsWith('/user-data.yaml')) assert.equal(mode, 0o600, file);
    }
    assert.ok(![...tree.keys()].some((f) => f.endsWith('ca.key')), 'the CA key never goes to the output');
  });

  it('rebuilds byte for byte from the same secrets, writing nothing', async (t) => {
    const p = project(t);
    await p.build();
    const before = readTree(p.out);
    const again = await p.build(new Date(T0.getTime() + DAY));
    assert.deepEqual(again.report.written, []);
    assert.ok([...again.pki.pairs.values()].every((pair) => pair.action === 'reused'));
    assert.deepEqual(readTree(p.out), before);
  });

  it('rebuilds the same bytes into an empty output directory', async (t) => {
    const p = project(t);
    await p.build();
    const before = readTree(p.out);
    const other = path.join(p.dir, 'out2');
    await build({ configFile: p.config, outDir: other, secretsDir: p.secrets, now: T0 });
    assert.deepEqual(readTree(other), before);
  });

  it('reissues only the certificates of a member whose address changed', async (t) => {
    const p = project(t);
    await p.build();
    const before = readTree(p.out);
    writeFileSync(p.config, minimalCluster.replace('10.0.0.12', '10.0.0.22'));
    const result = await p.build();
    const changed = [...result.pki.pairs.values()].filter((pair) => pair.action !== 'reused').map((pair) => `${pair.spec.id}: ${pair.reason}`);
    assert.deepEqual(changed.sort(), [
      'nodes/etcd2/peer: names changed (+IP:10.0.0.22 -IP:10.0.0.12)',
      'nodes/etcd2/server: names changed (+IP:10.0.0.22 -IP:10.0.0.12)',
    ]);
    const after = readTree(p.out);
    assert.equal(after.get('admin/pki/ca.crt')?.contents, before.get('admin/pki/ca.crt')?.contents, 'CA unchanged');
    assert.equal(after.get('nodes/etcd1/root/etc/etcd/pki/server.crt')?.contents, before.get('nodes/etcd1/root/etc/etcd/pki/server.crt')?.contents);
    assert.notEqual(after.get('nodes/etcd2/root/etc/etcd/pki/peer.key')?.contents, before.get('nodes/etcd2/root/etc/etcd/pki/peer.key')?.contents);
  });

  it('renews leaves inside the renewal window and keeps the CA', async (t) => {
    const p = project(t);
    await p.build();
    const result = await p.build(new Date(T0.getTime() + (365 - 29) * DAY));
    for (const pair of result.pki.pairs.values()) {
      if (pair.spec.isCa) assert.equal(pair.action, 'reused');
      else assert.match(`${pair.action}: ${pair.reason}`, /^reissued: expires in 2\d days \(renewBeforeDays 30\)$/);
    }
  });

  it('removes output files a member that left no longer needs, and only those', async (t) => {
    const p = project(t, `${minimalCluster}  - { name: etcd4, host: 10.0.0.14 }\n  - { name: etcd5, host: 10.0.0.15 }\n`);
    await p.build();
    writeFileSync(path.join(p.out, 'notes.txt'), 'mine\n');
    writeFileSync(p.config, minimalCluster);
    const result = await p.build();
    assert.ok(result.report.removed.includes('nodes/etcd5/root/etc/etcd/etcd.conf'));
    const tree = readTree(p.out);
    assert.ok(![...tree.keys()].some((f) => f.startsWith('nodes/etcd4/') || f.startsWith('nodes/etcd5/')));
    assert.equal(tree.get('notes.txt')?.contents, 'mine\n', 'files etcd-gen did not write stay');
  });

  it('refuses a key that does not belong to its certificate', async (t) => {
    const p = project(t);
    await p.build();
    copyFileSync(path.join(p.secrets, 'nodes', 'etcd1', 'peer.key'), path.join(p.secrets, 'nodes', 'etcd1', 'server.key'));
    assert.match(await inputError(p.build()), /server\.key: this key does not belong to .*server\.crt/);
  });

  it('reads PKCS#1 and SEC1 keys as well as PKCS#8, signs with them, and gives members PKCS#8', async (t) => {
    // An RSA CA so that the PKCS#1 form (cfssl's and `openssl genrsa`'s) is tried on the key that signs.
    const p = project(t, minimalCluster + 'tls: { key: rsa-2048 }\n');
    await p.build();
    const caKeyFile = path.join(p.secrets, 'ca.key');
    const caKey = createPrivateKey(readFileSync(caKeyFile));
    writeFileSync(caKeyFile, caKey.export({ type: 'pkcs1', format: 'pem' }));
    assert.match(readFileSync(caKeyFile, 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/);
    const leafKeyFile = path.join(p.secrets, 'nodes', 'etcd2', 'server.key');
    const leafPkcs8 = readFileSync(leafKeyFile, 'utf8');
    writeFileSync(leafKeyFile, createPrivateKey(leafPkcs8).export({ type: 'pkcs1', format: 'pem' }));
    // Renewal makes the PKCS#1 CA key sign; the PKCS#1 leaf key is reused and goes out as PKCS#8.
    const result = await build({ configFile: p.config, outDir: p.out, secretsDir: p.secrets, now: T0, renew: ['nodes/etcd1/server'] });
    assert.equal(result.pki.pairs.get('nodes/etcd1/server')?.action, 'reissued');
    assert.equal(result.pki.pairs.get('nodes/etcd2/server')?.action, 'reused');
    const tree = readTree(p.out);
    const ca = new X509Certificate(readFileSync(path.join(p.secrets, 'ca.crt')));
    assert.ok(new X509Certificate(tree.get('nodes/etcd1/root/etc/etcd/pki/server.crt')?.contents ?? '').verify(ca.publicKey), 'signed by the PKCS#1 CA key');
    assert.equal(tree.get('nodes/etcd2/root/etc/etcd/pki/server.key')?.contents, leafPkcs8, 'the member gets the same key as PKCS#8');
    assert.match(readFileSync(leafKeyFile, 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/, 'the stored key is left as it was');

    // SEC1 (`EC PRIVATE KEY`) on an ECDSA CA.
    const q = project(t);
    await q.build();
    const ecKeyFile = path.join(q.secrets, 'ca.key');
    writeFileSync(ecKeyFile, createPrivateKey(readFileSync(ecKeyFile)).export({ type: 'sec1', format: 'pem' }));
    assert.match(readFileSync(ecKeyFile, 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
    const renewed = await build({ configFile: q.config, outDir: q.out, secretsDir: q.secrets, now: T0, renew: 'all' });
    const ecCa = new X509Certificate(readFileSync(path.join(q.secrets, 'ca.crt')));
    assert.ok([...renewed.pki.pairs.values()].filter((x) => !x.spec.isCa).every((x) => x.action === 'reissued' && new X509Certificate(x.certPem).verify(ecCa.publicKey)));
  });

  it('refuses an encrypted key, in any of its PEM forms, with the file and how to decrypt it', async (t) => {
    const p = project(t);
    await p.build();
    const before = readTree(p.out);
    const file = path.join(p.secrets, 'ca.key');
    const plain = readFileSync(file, 'utf8');
    const key = createPrivateKey(plain);
    const forms = [
      key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }),
      key.export({ type: 'sec1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }),
    ];
    for (const form of forms) {
      writeFileSync(file, form);
      assert.match(await inputError(p.build()), /ca\.key: this private key is encrypted with a passphrase.*openssl pkey -in KEY/);
    }
    writeFileSync(file, createPrivateKey({ key: readFileSync(file, 'utf8'), passphrase: 'secret' }).export({ type: 'sec1', format: 'pem' }));
    assert.deepEqual(readTree(p.out), before, 'nothing in the output changed');
  });

  it('refuses a PKCS#1 or SEC1 key that does not belong to its certificate, never with an internal error', async (t) => {
    const p = project(t);
    await p.build();
    const other = createPrivateKey(readFileSync(path.join(p.secrets, 'nodes', 'etcd1', 'peer.key')));
    writeFileSync(path.join(p.secrets, 'ca.key'), other.export({ type: 'sec1', format: 'pem' }));
    assert.match(await inputError(p.build()), /ca\.key: this key does not belong to .*ca\.crt/);
    const q = project(t, minimalCluster + 'tls: { key: rsa-2048 }\n');
    await q.build();
    const rsa = createPrivateKey(readFileSync(path.join(q.secrets, 'clients', 'admin.key')));
    writeFileSync(path.join(q.secrets, 'ca.key'), rsa.export({ type: 'pkcs1', format: 'pem' }));
    assert.match(await inputError(q.build()), /ca\.key: this key does not belong to .*ca\.crt/);
    // An RSA key beside an ECDSA certificate.
    writeFileSync(path.join(p.secrets, 'ca.key'), rsa.export({ type: 'pkcs1', format: 'pem' }));
    assert.match(await inputError(p.build()), /ca\.key: this key does not belong to .*ca\.crt/);
  });

  it('never replaces a CA: half a CA, a lost CA, or another cluster\'s CA stop the build', async (t) => {
    const p = project(t);
    await p.build();
    const before = readTree(p.out);
    const caKey = readFileSync(path.join(p.secrets, 'ca.key'), 'utf8');
    writeFileSync(path.join(p.secrets, 'ca.key'), '');
    assert.match(await inputError(p.build()), /not a PEM private key/);
    writeFileSync(path.join(p.secrets, 'ca.key'), caKey);

    const elsewhere = path.join(p.dir, 'other-secrets');
    assert.match(
      await inputError(build({ configFile: p.config, outDir: p.out, secretsDir: elsewhere, now: T0 })),
      /no CA key here, but .*ca\.crt shows the output was built with a CA/,
    );
    // Another cluster's secrets against this output.
    const q = project(t, minimalCluster.replace('name: test', 'name: other'));
    await q.build();
    assert.match(
      await inputError(build({ configFile: p.config, outDir: p.out, secretsDir: q.secrets, now: T0 })),
      /this CA is not the one .*ca\.crt was built with/,
    );
    assert.deepEqual(readTree(p.out), before, 'nothing in the output changed');
  });

  it('refuses to build on an expired CA, then replaces it in one step only when --rotate-ca asks', async (t) => {
    const p = project(t);
    await p.build();
    const before = readTree(p.out);
    const secretsBefore = readTree(p.secrets);
    const expired = new Date(T0.getTime() + 3651 * DAY);
    assert.match(await inputError(p.build(expired)), /ca\.crt: the CA expired on 2035-12-30: .*--rotate-ca.*rotate-certs\.sh --all-at-once/);
    assert.deepEqual(readTree(p.out), before, 'nothing in the output changed');
    assert.deepEqual(readTree(p.secrets), secretsBefore, 'nothing in the secrets changed');

    const result = await build({ configFile: p.config, outDir: p.out, secretsDir: p.secrets, now: expired, rotateCa: true });
    assert.equal(result.pki.rotation, 'replace');
    const ca = result.pki.pairs.get('ca');
    assert.equal(`${ca?.action}: ${ca?.reason}`, 'reissued: the CA expired on 2035-12-30');
    for (const pair of result.pki.pairs.values()) if (!pair.spec.isCa) assert.equal(`${pair.action}: ${pair.reason}`, 'reissued: the CA was replaced', pair.spec.id);
    const newCa = new X509Certificate(readFileSync(path.join(p.secrets, 'ca.crt')));
    assert.notEqual(newCa.fingerprint256, new X509Certificate(secretsBefore.get('ca.crt')?.contents ?? '').fingerprint256);
    assert.ok(newCa.checkPrivateKey(createPrivateKey(readFileSync(path.join(p.secrets, 'ca.key')))), 'the stored key is the new CA\'s');
    const after = readTree(p.out);
    assert.equal(after.get('admin/pki/ca.crt')?.contents, newCa.toString(), 'the new CA is the only one trusted');
    const leaf = new X509Certificate(after.get('nodes/etcd1/root/etc/etcd/pki/server.crt')?.contents ?? '');
    assert.ok(leaf.verify(newCa.publicKey) && new Date(leaf.validTo).getTime() > expired.getTime(), 'leaves are signed by the new CA');
    // The replacement is done: the next build reuses everything and rotates nothing.
    const again = await p.build(expired);
    assert.equal(again.pki.rotation, null);
    assert.ok([...again.pki.pairs.values()].every((pair) => pair.action === 'reused'));
  });

  it('replaces an expired CA with the next one when a rotation was under way', async (t) => {
    const p = project(t);
    await p.build();
    const late = new Date(T0.getTime() + 3600 * DAY);
    await build({ configFile: p.config, outDir: p.out, secretsDir: p.secrets, now: late, rotateCa: true });
    const next = readFileSync(path.join(p.secrets, 'ca-next.crt'), 'utf8');
    const result = await build({ configFile: p.config, outDir: p.out, secretsDir: p.secrets, now: new Date(T0.getTime() + 3651 * DAY), rotateCa: true });
    assert.equal(result.pki.rotation, 'replace');
    assert.equal(readFileSync(path.join(p.secrets, 'ca.crt'), 'utf8'), next, 'the CA trusted since the first step signs');
    assert.ok(!existsSync(path.join(p.secrets, 'ca-next.crt')) && !existsSync(path.join(p.secrets, 'ca-next.key')));
    assert.equal(readTree(p.out).get('admin/pki/ca.crt')?.contents, next);
  });

  it('refuses to write into a directory that is not etcd-gen output', async (t) => {
    const p = project(t);
    mkdirSync(p.out);
    writeFileSync(path.join(p.out, 'important.txt'), 'x');
    assert.match(await inputError(p.build()), /not empty and has no manifest\.json from etcd-gen/);
    assert.deepEqual([...readTree(p.out).keys()], ['important.txt']);
  });
});

describe('a member\'s extraSANs', () => {
  it('are named by its own server and peer certificates, in one spelling, and by no other member\'s', async (t) => {
    const dir = tempDir(t);
    const config = path.join(dir, 'cluster.yaml');
    writeFileSync(config, minimalCluster.replace('host: 10.0.0.11 }', 'host: 10.0.0.11, extraSANs: [ "::ffff:192.0.2.11", etcd1-nat.lan, "FD00::0011" ] }'));
    await build({ configFile: config, outDir: path.join(dir, 'out') });
    const sans = (member: string, kind: string) =>
      new X509Certificate(readFileSync(path.join(dir, 'out', 'nodes', member, 'root', 'etc', 'etcd', 'pki', `${kind}.crt`))).subjectAltName ?? '';
    for (const kind of ['server', 'peer']) {
      const own = sans('etcd1', kind);
      for (const name of ['IP Address:192.0.2.11', 'DNS:etcd1-nat.lan', 'IP Address:FD00:0:0:0:0:0:0:11', 'IP Address:10.0.0.11']) assert.ok(own.includes(name), `${kind}: ${own}`);
      assert.doesNotMatch(own, /FFFF/i, 'no IPv4-mapped form');
      assert.doesNotMatch(sans('etcd2', kind), /192\.0\.2\.11|etcd1-nat/);
    }
  });
});
