/** age settings etcd-gen refuses without running age (the round trips with the age CLI: test/tools/age.test.ts). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { minimalCluster, runInProcess, tempDir } from './helpers.js';

function project(t: TestContext) {
  const dir = tempDir(t);
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runInProcess(args, { cwd: dir, env });
  const config = (age: string) => writeFileSync(path.join(dir, 'cluster.yaml'), `${minimalCluster}${age}`);
  return { dir, cli, config };
}

describe('age', () => {
  it('refuses a recipient that is not one', async (t) => {
    const p = project(t);
    p.config('age: { recipients: [ssh-rsa AAAA] }\n');
    const r = await p.cli(['build', 'cluster.yaml', '-o', 'out']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cluster\.yaml:7:21: \$\.age\.recipients\[0\]: invalid value: use an age X25519 recipient/);
  });
});
