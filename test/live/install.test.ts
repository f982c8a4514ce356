/**
 * user-data's tarball install step, run for real on every release of the matrix: the release's own
 * binaries packed in etcd's tarball layout, served at a file:// URL, installed as root into a private
 * /usr/local/bin (a mount namespace). Live: it packs and unpacks about 60 MB per release.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterConfig } from '../../src/input/config.js';
import { buildModel } from '../../src/model/build.js';
import { needAll, needTools, run, tempDir } from '../helpers.js';
import { testEachRelease } from '../harness/releases.js';

testEachRelease('the tarball install step installs a real release in etcd\'s tarball layout', 'every', { timeout: 60_000 }, async (t, release) => {
  if (!needAll(t, release ? [] : ['etcd (the matrix or on PATH)'], 'npm run etcd:fetch')) return;
  if (!release || !needTools(t, ['unshare', 'mount', 'curl', 'sha256sum', 'tar'], { root: true })) return;
  const dir = tempDir(t);
  const top = `etcd-v${release.version}-linux-amd64`;
  // etcd's own tools only: the etcd on PATH (no matrix) shares its directory (/usr/bin) with everything else.
  const tools = ['etcd', 'etcdctl', 'etcdutl'].filter((tool) => existsSync(path.join(release.bin, tool)));
  mkdirSync(path.join(dir, 'src', top), { recursive: true });
  for (const tool of tools) writeFileSync(path.join(dir, 'src', top, tool), readFileSync(path.join(release.bin, tool)), { mode: 0o755 });
  const tarball = path.join(dir, `${top}.tar.gz`);
  assert.equal(run('tar', ['-czf', tarball, '-C', path.join(dir, 'src'), top], { timeout: 300_000 }).status, 0);
  const sha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  const config: ClusterConfig = { name: 'test', etcd: { version: release.version, install: { from: 'tarball', sha256, url: `file://${tarball}` } }, nodes: [{ name: 'etcd1', host: '10.0.0.11' }] };
  const step = buildModel(config, 'cluster.yaml').cloudInit.steps.find((s) => s.name === 'etcd')?.script ?? assert.fail();
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const r = run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /usr/local/bin && exec sh -eu -c "$2"', 'sh', bin, step], { timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(bin).sort(), tools, 'etcd, etcdctl and, from 3.5, etcdutl');
  assert.match(run(path.join(bin, 'etcd'), ['--version']).stdout, new RegExp(`^etcd Version: ${release.version.replace(/\./g, '\\.')}$`, 'm'));
});
