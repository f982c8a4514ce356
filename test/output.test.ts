/**
 * The output stage on its own, with hand-made files and no PKI: what the previous build is read as
 * (src/output/previous.ts), what a write stages and reports (src/output/write.ts), and what --check
 * finds (compareOutput).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../src/diagnostics.js';
import { buildModel } from '../src/model/build.js';
import { buildManifest, manifestText, MANIFEST, type OutputFile } from '../src/output/files.js';
import { readPreviousBuild } from '../src/output/previous.js';
import { FileTransaction } from '../src/output/transaction.js';
import { compareOutput, stageOutput } from '../src/output/write.js';
import { tempDir } from './helpers.js';

const model = buildModel({ name: 'test', etcd: { version: '3.5.13' }, nodes: [{ name: 'etcd1', host: '10.0.0.11' }] }, 'cluster.yaml');
const file = (p: string, contents: string, extra: Partial<OutputFile> = {}): OutputFile => ({ path: p, contents, mode: 0o644, role: 'readme', ...extra });

async function write(outDir: string, files: OutputFile[]) {
  const previous = await readPreviousBuild(outDir);
  const manifest = buildManifest(files, model, '0.0.0-test');
  const tx = new FileTransaction();
  const report = await stageOutput(tx, outDir, files, manifest, previous.manifest);
  await tx.commit();
  return { report, manifest };
}

describe('the previous build', () => {
  it('is nothing for a missing or empty directory', async (t) => {
    const dir = tempDir(t);
    for (const outDir of [path.join(dir, 'none'), dir]) {
      const previous = await readPreviousBuild(outDir);
      assert.deepEqual({ ...previous, sealed: [...previous.sealed] }, { manifest: null, caPem: null, identity: null, sealed: [], takeover: 'missing' });
    }
  });

  it('refuses a directory that holds anything but an etcd-gen build, at the directory, with the fix', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
    await assert.rejects(readPreviousBuild(dir), (err: unknown) => err instanceof InputError && /has no manifest\.json from etcd-gen: choose an empty or new directory for -o/.test(err.diagnostics[0]?.message ?? ''));
    writeFileSync(path.join(dir, MANIFEST), '{"generator":"other","files":[]}');
    await assert.rejects(readPreviousBuild(dir), (err: unknown) => err instanceof InputError && /not an etcd-gen manifest/.test(err.diagnostics[0]?.message ?? ''));
  });

  it('reads the manifest, the identity it records, the sealed files it lists, and takeover.json, once', async (t) => {
    const outDir = tempDir(t);
    const sealed = file('nodes/etcd1/root/etc/etcd/pki/server.key.age', 'CIPHERTEXT', { sealed: { plaintextSha256: 'a', recipientsSha256: 'b' } });
    await write(outDir, [file('README.md', 'hello\n'), sealed]);
    writeFileSync(path.join(outDir, 'takeover.json'), '{"moved":["etcd1"]}');
    const previous = await readPreviousBuild(outDir);
    assert.equal(previous.manifest?.cluster, 'test');
    assert.equal(previous.identity?.token, model.token);
    assert.equal(previous.identity?.etcdVersion, '3.5.13');
    assert.deepEqual([...previous.sealed], [[sealed.path, 'CIPHERTEXT']]);
    assert.deepEqual(previous.takeover, { moved: ['etcd1'] });
    writeFileSync(path.join(outDir, 'takeover.json'), 'not json');
    assert.equal((await readPreviousBuild(outDir)).takeover, 'unreadable');
  });
});

describe('write', () => {
  it('writes what changed, keeps what did not, removes what the previous build wrote and this one does not', async (t) => {
    const outDir = tempDir(t);
    const first = await write(outDir, [file('README.md', 'one\n'), file('runbooks/a.sh', 'a\n', { mode: 0o755 }), file('gone.txt', 'x\n')]);
    assert.deepEqual(first.report, { written: ['README.md', 'runbooks/a.sh', 'gone.txt'], unchanged: [], removed: [] });
    writeFileSync(path.join(outDir, 'mine.txt'), 'not etcd-gen\n');
    const second = await write(outDir, [file('README.md', 'two\n'), file('runbooks/a.sh', 'a\n', { mode: 0o755 })]);
    assert.deepEqual(second.report, { written: ['README.md'], unchanged: ['runbooks/a.sh'], removed: ['gone.txt'] });
    assert.equal(readFileSync(path.join(outDir, 'README.md'), 'utf8'), 'two\n');
    assert.equal(readFileSync(path.join(outDir, 'mine.txt'), 'utf8'), 'not etcd-gen\n', 'a file etcd-gen never wrote stays');
    assert.equal(readFileSync(path.join(outDir, MANIFEST), 'utf8'), manifestText(second.manifest));
  });

  it('--check finds added, changed (contents or mode) and removed files, and writes nothing', async (t) => {
    const outDir = tempDir(t);
    const files = [file('README.md', 'one\n'), file('runbooks/a.sh', 'a\n', { mode: 0o755 }), file('old.txt', 'x\n')];
    const { manifest } = await write(outDir, files);
    assert.deepEqual(await compareOutput(outDir, files, manifest, manifest), { added: [], removed: [], changed: [] });
    chmodSync(path.join(outDir, 'runbooks', 'a.sh'), 0o700);
    mkdirSync(path.join(outDir, 'extra'));
    const next = [file('README.md', 'two\n'), file('runbooks/a.sh', 'a\n', { mode: 0o755 }), file('new.txt', 'n\n')];
    const drift = await compareOutput(outDir, next, buildManifest(next, model, '0.0.0-test'), manifest);
    assert.deepEqual(drift.added, ['new.txt']);
    assert.deepEqual(drift.removed, ['old.txt']);
    assert.deepEqual(
      drift.changed.filter((c) => c.path !== MANIFEST),
      [
        { path: 'README.md', what: 'contents' },
        { path: 'runbooks/a.sh', what: 'mode' },
      ],
    );
    assert.equal(readFileSync(path.join(outDir, 'README.md'), 'utf8'), 'one\n', 'nothing written');
  });
});
