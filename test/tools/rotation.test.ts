/**
 * CA rotation in three deployable steps, judged by openssl: at every step, certificates from before and
 * after verify against what members trust, until the last step drops the old CA.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { minimalCluster, needTools, readTree, run, runCli, tempDir } from '../helpers.js';

const certCount = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;

it('rotates the CA in three steps, each deployable without breaking members not yet updated', (t) => {
  if (!needTools(t, ['openssl'])) return;
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
  const cli = (...args: string[]) => runCli(args, { cwd: dir });
  const file = (...parts: string[]) => path.join(dir, ...parts);
  const verifies = (bundle: string, leaf: string) => {
    writeFileSync(file('bundle.pem'), bundle);
    writeFileSync(file('leaf.pem'), leaf);
    return run('openssl', ['verify', '-CAfile', file('bundle.pem'), file('leaf.pem')]).status === 0;
  };
  const bundle = () => readFileSync(file('out', 'nodes', 'etcd2', 'root', 'etc', 'etcd', 'pki', 'ca.crt'), 'utf8');
  const leaf = () => readFileSync(file('out', 'nodes', 'etcd2', 'root', 'etc', 'etcd', 'pki', 'peer.crt'), 'utf8');

  const early = cli('build', 'cluster.yaml', '-o', 'out', '--rotate-ca');
  assert.equal(early.status, 2);
  assert.match(early.stderr, /no CA to rotate yet/);
  assert.equal(cli('build', 'cluster.yaml', '-o', 'out').status, 0);
  const oldCa = readFileSync(file('secrets', 'ca.crt'), 'utf8');
  const oldLeaf = leaf();

  // 1: trust the new CA beside the old one; leaves unchanged.
  const one = cli('build', 'cluster.yaml', '-o', 'out', '--rotate-ca');
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stderr, /CA rotation 1\/3/);
  assert.equal(certCount(bundle()), 2);
  assert.equal(leaf(), oldLeaf);
  assert.ok(existsSync(file('secrets', 'ca-next.key')));
  assert.ok(verifies(bundle(), oldLeaf));
  const trustedDuringRotation = bundle();
  assert.match(cli('build', 'cluster.yaml', '-o', 'out').stderr, / 0 written/, 'a plain build in the middle of a rotation changes nothing');

  // 2: the new CA signs; every leaf is reissued; the old CA is still trusted.
  const two = cli('build', 'cluster.yaml', '-o', 'out', '--rotate-ca');
  assert.equal(two.status, 0, two.stderr);
  assert.match(two.stderr, /CA rotation 2\/3/);
  assert.equal((two.stderr.match(/reissued .*: signed by another CA/g) ?? []).length, 8);
  const newLeaf = leaf();
  assert.notEqual(newLeaf, oldLeaf);
  assert.ok(verifies(bundle(), newLeaf), 'new leaves verify');
  assert.ok(verifies(bundle(), oldLeaf), 'leaves of members not yet updated still verify');
  assert.equal(bundle(), trustedDuringRotation, 'the same two CAs, in the same order: members need no restart for this step');
  assert.ok(!verifies(oldCa, newLeaf), 'new leaves are signed by the new CA');
  assert.notEqual(readFileSync(file('secrets', 'ca.crt'), 'utf8'), oldCa);
  assert.equal(readFileSync(file('secrets', 'ca-previous.crt'), 'utf8'), oldCa);
  assert.ok(!existsSync(file('secrets', 'ca-next.key')));
  const settled = readTree(file('out'));
  assert.match(cli('build', 'cluster.yaml', '-o', 'out').stderr, / 0 written/);
  assert.deepEqual(readTree(file('out')), settled);

  // 3: the old CA is dropped.
  const three = cli('build', 'cluster.yaml', '-o', 'out', '--rotate-ca');
  assert.equal(three.status, 0, three.stderr);
  assert.match(three.stderr, /CA rotation 3\/3/);
  assert.equal(certCount(bundle()), 1);
  assert.ok(verifies(bundle(), newLeaf));
  assert.ok(!verifies(bundle(), oldLeaf), 'the old CA is no longer trusted');
  assert.ok(!existsSync(file('secrets', 'ca-previous.crt')));
  assert.equal(leaf(), newLeaf);
});
