/** A CA made by cfssl, as the manual procedure makes it, taken by the build as it is. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { it, type TestContext } from 'node:test';
import { build } from '../../src/pipeline.js';
import { minimalCluster, needTools, readTree, run, tempDir } from '../helpers.js';

const T0 = new Date('2026-01-01T00:00:00Z');

function project(t: TestContext, source = minimalCluster) {
  const dir = tempDir(t);
  const config = path.join(dir, 'cluster.yaml');
  writeFileSync(config, source);
  const out = path.join(dir, 'out');
  const secrets = path.join(dir, 'secrets');
  return { dir, config, out, secrets, build: (now = T0) => build({ configFile: config, outDir: out, secretsDir: secrets, now }) };
}

it('pki takes a CA made by cfssl (PKCS#1 RSA key) as it is and signs with it', async (t) => {
  if (!needTools(t, ['cfssl', 'cfssljson'])) return;
  const p = project(t);
  const csr = JSON.stringify({ CN: 'etcd-ca', key: { algo: 'rsa', size: 2048 }, names: [{ O: 'Kubernetes', OU: 'etcd' }] });
  const gen = run('sh', ['-c', 'cfssl gencert -initca - | cfssljson -bare ca'], { cwd: p.dir, input: csr });
  assert.equal(gen.status, 0, gen.stderr);
  assert.match(readFileSync(path.join(p.dir, 'ca-key.pem'), 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/);
  mkdirSync(p.secrets, { mode: 0o700 });
  copyFileSync(path.join(p.dir, 'ca.pem'), path.join(p.secrets, 'ca.crt'));
  copyFileSync(path.join(p.dir, 'ca-key.pem'), path.join(p.secrets, 'ca.key'));
  const result = await p.build();
  assert.equal(result.pki.pairs.get('ca')?.action, 'reused');
  const ca = new X509Certificate(readFileSync(path.join(p.dir, 'ca.pem')));
  const leaf = new X509Certificate(readTree(p.out).get('nodes/etcd3/root/etc/etcd/pki/peer.crt')?.contents ?? '');
  assert.ok(leaf.verify(ca.publicKey) && leaf.issuer === ca.subject, 'leaves are signed by the cfssl CA');
});
