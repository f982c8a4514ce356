/** age encryption round trips with the age CLI: sealed output keys, quiet rebuilds, encrypted secrets. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { minimalCluster, needTools, readTree, run, runInProcess, tempDir } from '../helpers.js';

function identity(dir: string, name: string): { file: string; recipient: string } {
  const file = path.join(dir, `${name}.txt`);
  assert.equal(run('age-keygen', ['-o', file]).status, 0);
  const recipient = run('age-keygen', ['-y', file]).stdout.trim();
  assert.match(recipient, /^age1[0-9a-z]{58}$/);
  return { file, recipient };
}

function project(t: TestContext) {
  const dir = tempDir(t);
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runInProcess(args, { cwd: dir, env });
  const config = (age: string) => writeFileSync(path.join(dir, 'cluster.yaml'), `${minimalCluster}${age}`);
  return { dir, cli, config, out: path.join(dir, 'out'), secrets: path.join(dir, 'secrets') };
}

const decrypt = (identityFile: string, file: string) => run('age', ['-d', '-i', identityFile, file]);

describe('age', () => {
  it('seals every output key so the age CLI opens it, and rebuilds without re-encrypting', async (t) => {
    if (!needTools(t, ['age', 'age-keygen'])) return;
    const p = project(t);
    const ops = identity(p.dir, 'ops');
    p.config(`age: { recipients: [${ops.recipient}] }\n`);
    const first = await p.cli(['build', 'cluster.yaml', '-o', 'out']);
    assert.equal(first.status, 0, first.stderr);
    const tree = readTree(p.out);
    assert.deepEqual([...tree.keys()].filter((f) => f.endsWith('.key')), [], 'no key in the clear');
    const sealed = [...tree.keys()].filter((f) => f.endsWith('.key.age'));
    assert.equal(sealed.length, 3 * 2 + 2);
    for (const f of sealed) {
      assert.doesNotMatch(tree.get(f)?.contents ?? '', /PRIVATE KEY/);
      const opened = decrypt(ops.file, path.join(p.out, f));
      assert.equal(opened.status, 0, opened.stderr);
      assert.match(opened.stdout, /^-----BEGIN PRIVATE KEY-----\n/);
    }
    const serverKey = decrypt(ops.file, path.join(p.out, 'nodes', 'etcd1', 'root', 'etc', 'etcd', 'pki', 'server.key.age')).stdout;
    assert.equal(serverKey, readFileSync(path.join(p.secrets, 'nodes', 'etcd1', 'server.key'), 'utf8'));
    assert.doesNotMatch(readFileSync(path.join(p.out, 'manifest.json'), 'utf8'), /PRIVATE KEY/);

    const again = await p.cli(['build', 'cluster.yaml', '-o', 'out']);
    assert.match(again.stderr, new RegExp(`0 written, ${tree.size - 1} unchanged, 0 removed`));
    assert.deepEqual(readTree(p.out), tree, 'the ciphertext stays, so diffs stay quiet');
    assert.equal((await p.cli(['build', 'cluster.yaml', '-o', 'out', '--check'])).status, 0);

    // A new recipient re-encrypts every key, and every user-data, to both.
    const ci = identity(p.dir, 'ci');
    p.config(`age: { recipients: [${ops.recipient}, ${ci.recipient}] }\n`);
    const both = await p.cli(['build', 'cluster.yaml', '-o', 'out']);
    // Each sealed file: 8 keys and 3 user-data files (the count leaves out manifest.json).
    const sealedFiles = [...tree.keys()].filter((f) => f.endsWith(".age")).length;
    assert.equal(sealedFiles, 11);
    assert.match(both.stderr, new RegExp(`${sealedFiles} written`));
    assert.equal(decrypt(ci.file, path.join(p.out, 'admin', 'pki', 'admin.key.age')).stdout, readFileSync(path.join(p.secrets, 'clients', 'admin.key'), 'utf8'));
  });

  it('keeps the secrets directory encrypted when asked, and needs the identity to build', async (t) => {
    if (!needTools(t, ['age', 'age-keygen'])) return;
    const p = project(t);
    const ops = identity(p.dir, 'ops');
    // Secrets first created in the clear, then encrypted in place once encryptSecrets is on.
    p.config('');
    assert.equal((await p.cli(['build', 'cluster.yaml', '-o', 'out'])).status, 0);
    const caKey = readFileSync(path.join(p.secrets, 'ca.key'), 'utf8');
    p.config(`age: { recipients: [${ops.recipient}], encryptSecrets: true }\n`);
    const converted = await p.cli(['build', 'cluster.yaml', '-o', 'out']);
    assert.equal(converted.status, 0, converted.stderr);
    const secrets = readTree(p.secrets);
    assert.deepEqual([...secrets.keys()].filter((f) => f.endsWith('.key')), [], 'no key left in the clear');
    // Encrypted secrets are meant to be committed: the directory's .gitignore keeps out only plaintext keys.
    assert.match(secrets.get('.gitignore')?.contents ?? '', /^\*\.key$/m);
    assert.doesNotMatch(secrets.get('.gitignore')?.contents ?? '', /^\*$/m);
    assert.equal(decrypt(ops.file, path.join(p.secrets, 'ca.key.age')).stdout, caKey, 'the same CA, now encrypted');

    const locked = await p.cli(['build', 'cluster.yaml', '-o', 'out']);
    assert.equal(locked.status, 2);
    assert.match(locked.stderr, /ca\.key\.age:1:1: \$: this key is age-encrypted: pass the identity with --identity FILE/);
    const wrong = identity(p.dir, 'stranger');
    const refused = await p.cli(['build', 'cluster.yaml', '-o', 'out', '--identity', wrong.file]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /cannot decrypt this key/);

    const viaEnv = await p.cli(['build', 'cluster.yaml', '-o', 'out'], { ETCD_GEN_AGE_IDENTITY: readFileSync(ops.file, 'utf8') });
    assert.equal(viaEnv.status, 0, viaEnv.stderr);
    assert.match(viaEnv.stderr, /0 written/);
    const checked = await p.cli(['build', 'cluster.yaml', '-o', 'out', '--check', '--identity', ops.file]);
    assert.equal(checked.status, 0, checked.stderr);
    assert.ok(!existsSync(path.join(p.secrets, 'ca.key')));
  });
});
