/**
 * Owners and modes through the whole path: the model says them once; out/ and its manifest carry them;
 * the generated README's deploy commands set them on a member after a copy that kept none (as root:
 * test/tools/deploy.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { build } from '../src/pipeline.js';
import { minimalCluster, tempDir } from './helpers.js';
import { type Manifest } from '../src/output/files.js';

test('out/ and its manifest carry the mode and owner the model gives each member file', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
  const { model } = await build({ configFile: path.join(dir, 'cluster.yaml'), outDir: path.join(dir, 'out') });
  const manifest = JSON.parse(readFileSync(path.join(dir, 'out', 'manifest.json'), 'utf8')) as Manifest;
  for (const member of model.members) {
    for (const f of model.install.files) {
      const rel = `${member.overlayDir}${f.path}`;
      assert.equal(statSync(path.join(dir, 'out', rel)).mode & 0o777, f.mode, `mode of ${rel} in out/`);
      const entry = manifest.files.find((e) => e.path === rel);
      assert.deepEqual([entry?.mode, entry?.owner], [f.modeText, `${f.user}:${f.group}`], `manifest entry of ${rel}`);
    }
  }
  // Keys are never readable by anyone else, wherever they are.
  for (const entry of manifest.files.filter((e) => e.role === 'private-key')) assert.equal(entry.mode, '0600', entry.path);
});
