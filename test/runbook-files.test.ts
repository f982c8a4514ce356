/**
 * The runbooks as files: cluster.sh holds the cluster's facts; lib.sh and every runbook are the same,
 * byte for byte, for every cluster (templates/runbooks/); each runbook says what it misses on the
 * operator's machine before it does anything.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { RUNBOOKS } from '../src/render/render.js';
import { buildInto, minimalCluster, repoRoot, run, tempDir } from './helpers.js';

it('ships every runbook but cluster.sh byte for byte the same for every cluster', async (t) => {
  const a = await buildInto(t, minimalCluster);
  const b = await buildInto(t, minimalCluster.replace('name: test', 'name: other').replace(/10\.0\.0\./g, '10.9.9.'));
  for (const runbook of RUNBOOKS) {
    const left = readFileSync(path.join(a.out, 'runbooks', runbook), 'utf8');
    const right = readFileSync(path.join(b.out, 'runbooks', runbook), 'utf8');
    if (runbook === 'cluster.sh') {
      assert.notEqual(left, right, 'the facts differ');
      assert.match(right, /^CLUSTER=other$/m);
      continue;
    }
    assert.equal(left, right, runbook);
    assert.equal(left, readFileSync(path.join(repoRoot, 'templates', 'runbooks', runbook), 'utf8'), `${runbook} is the shipped file`);
    assert.doesNotMatch(left, /\b(test|other)\b.*10\.(0\.0|9\.9)\./, `${runbook} holds no fact of a cluster`);
  }
});

it('names every tool a runbook misses on this machine, and does nothing (exit 2)', async (t) => {
  const { out } = await buildInto(t, minimalCluster);
  // A machine with bash and the three commands lib.sh runs before its check, and nothing else.
  const bin = path.join(tempDir(t), 'bin');
  mkdirSync(bin);
  for (const tool of ['bash', 'dirname', 'basename', 'date']) {
    symlinkSync(run('sh', ['-c', `command -v ${tool}`]).stdout.trim(), path.join(bin, tool));
  }
  for (const [runbook, extra] of [['health.sh', ''], ['rotate-certs.sh', ' openssl'], ['snapshot.sh', ' sha256sum']] as const) {
    const r = run(path.join(bin, 'bash'), [path.join(out, 'runbooks', runbook), '--help'], { env: { PATH: bin, ETCD_GEN_REMOTE: '', ETCDCTL_BIN: '' } });
    assert.equal(r.status, 2, `${runbook}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^${runbook}: not found on this machine: etcdctl ssh timeout awk sed grep sort\\. `), runbook);
    if (extra) {
      // With what lib.sh asks for present, the runbook's own needs are named.
      const full = path.join(tempDir(t), 'full');
      mkdirSync(full);
      for (const tool of ['bash', 'dirname', 'basename', 'date', 'timeout', 'awk', 'sed', 'grep', 'sort']) {
        symlinkSync(run('sh', ['-c', `command -v ${tool}`]).stdout.trim(), path.join(full, tool));
      }
      for (const tool of ['etcdctl', 'ssh']) symlinkSync('/bin/true', path.join(full, tool));
      const own = run(path.join(full, 'bash'), [path.join(out, 'runbooks', runbook), '--help'], { env: { PATH: full, ETCD_GEN_REMOTE: '', ETCDCTL_BIN: '' } });
      assert.equal(own.status, 2, `${runbook}: ${own.stderr}`);
      assert.match(own.stderr, new RegExp(`^${runbook}: not found on this machine:${extra}\\. `), runbook);
    }
  }
});
