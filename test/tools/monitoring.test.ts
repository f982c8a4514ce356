/** out/monitoring/: Prometheus's own checker (promtool) accepts the configuration and the rules. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { build } from '../../src/pipeline.js';
import { minimalCluster, needTools, run, tempDir } from '../helpers.js';

it('promtool accepts the monitoring configuration and its rules', async (t) => {
  if (!needTools(t, ['promtool'])) return;
  const root = tempDir(t);
  writeFileSync(path.join(root, 'cluster.yaml'), `${minimalCluster}monitoring: { enabled: true, jobName: etcd-k8s1 }\n`);
  await build({ configFile: path.join(root, 'cluster.yaml'), outDir: path.join(root, 'out') });
  const dir = path.join(root, 'out', 'monitoring');
  const checked = run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir });
  assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout + checked.stderr, /SUCCESS: 1 rule files found/);
  const ruled = run('promtool', ['check', 'rules', 'etcd-alerts.yml'], { cwd: dir });
  assert.equal(ruled.status, 0, ruled.stdout + ruled.stderr);
});
