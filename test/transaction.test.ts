import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../src/diagnostics.js';
import { completeInterruptedCommit, FileTransaction } from '../src/output/transaction.js';
import { buildInto, runCli, tempDir } from './helpers.js';

/**
 * One file through a transaction of its own: through a temporary file and a rename, or, when `exclusive`,
 * only if no file is there yet (a hard link, which fails on an existing file, makes that hold in a race).
 */
async function writeAtomic(file: string, contents: string, mode: number, exclusive: boolean): Promise<void> {
  const tx = new FileTransaction();
  tx.write(file, contents, mode, { exclusive, durable: true });
  await tx.commit();
}

/**
 * Starts a separate process that commits, with `journal`, "new" contents for `files` (in that order) and
 * the removal of `gone`, and lives on until killed. Make one of the files a directory that is not empty
 * and the commit fails there, among its renames. Resolves `failed` with the error code.
 */
function failingCommit(journal: string, files: string[], gone: string) {
  const script = `
    const { FileTransaction } = await import(${JSON.stringify(new URL('../src/output/transaction.js', import.meta.url).href)});
    const [journal, gone, ...files] = process.argv.slice(1);
    const tx = new FileTransaction();
    for (const f of files) tx.write(f, 'new', 0o600, { durable: true });
    tx.remove(gone);
    try { await tx.commit(journal); console.log('committed'); } catch (err) { console.log('failed: ' + err.code); }
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, journal, gone, ...files]);
  const failed = new Promise<string>((resolve) => child.stdout.on('data', (d: Buffer) => resolve(d.toString().trim())));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, failed, exited };
}

describe('FileTransaction', () => {
  it('lets exactly one of two racing exclusive writers create a file, and the loser leaves nothing behind', async (t) => {
    const dir = tempDir(t);
    const target = path.join(dir, 'keys', 'ca.key');
    for (let round = 0; round < 20; round++) {
      const file = `${target}.${round}`;
      const results = await Promise.allSettled(['first', 'second'].map((who) => writeAtomic(file, who, 0o600, true)));
      const won = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(won, 1, `round ${round}: one writer wins`);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal((lost.reason as NodeJS.ErrnoException).code, 'EEXIST');
      assert.ok(['first', 'second'].includes(readFileSync(file, 'utf8')));
      assert.equal(statSync(file).mode & 0o777, 0o600);
    }
    assert.deepEqual(readdirSync(path.dirname(target)).filter((f) => f.endsWith('.tmp')), [], 'no staged file is left');
  });

  it('writes nothing when an exclusive file exists, not even the other files of the transaction', async (t) => {
    const dir = tempDir(t);
    await writeAtomic(path.join(dir, 'ca.key'), 'old', 0o600, true);
    const tx = new FileTransaction();
    tx.write(path.join(dir, 'a.crt'), 'a', 0o644);
    tx.write(path.join(dir, 'ca.key'), 'new', 0o600, { exclusive: true });
    await assert.rejects(tx.commit(), { code: 'EEXIST' });
    assert.deepEqual(readdirSync(dir), ['ca.key']);
    assert.equal(readFileSync(path.join(dir, 'ca.key'), 'utf8'), 'old');
  });

  it('has a build that died among its renames finished by the next, never while it still runs', async (t) => {
    const dir = tempDir(t);
    const journal = path.join(dir, 'secrets', '.journal');
    // A key, its certificate, and between them a target that stops the renames.
    const key = path.join(dir, 'secrets', 'server.key');
    const blocked = path.join(dir, 'secrets', 'blocked');
    const crt = path.join(dir, 'secrets', 'server.crt');
    await writeAtomic(key, 'old', 0o600, false);
    await writeAtomic(crt, 'old', 0o600, false);
    mkdirSync(path.join(blocked, 'inside'), { recursive: true });
    const gone = path.join(dir, 'out', 'gone.txt');
    await writeAtomic(gone, 'old', 0o644, false);
    const run = failingCommit(journal, [key, blocked, crt], gone);
    t.after(() => run.child.kill('SIGKILL'));
    assert.match(await run.failed, /^failed: (EISDIR|ENOTEMPTY|EEXIST)$/);
    // Half done: a new key beside the old certificate.
    assert.deepEqual([readFileSync(key, 'utf8'), readFileSync(crt, 'utf8')], ['new', 'old']);
    assert.ok(existsSync(gone) && existsSync(journal));

    await assert.rejects(completeInterruptedCommit(journal), (err: unknown) => err instanceof UsageError && /another etcd-gen build \(pid \d+, since .*\) is writing/.test(err.message));
    assert.ok(existsSync(journal), 'nothing is finished while its process runs');

    run.child.kill('SIGKILL');
    await run.exited;
    rmSync(blocked, { recursive: true });
    const done = await completeInterruptedCommit(journal);
    assert.equal(done?.renamed, 2);
    assert.deepEqual([readFileSync(key, 'utf8'), readFileSync(blocked, 'utf8'), readFileSync(crt, 'utf8')], ['new', 'new', 'new']);
    assert.ok(!existsSync(gone), 'what was to go is gone');
    assert.ok(!existsSync(journal));
    assert.deepEqual(readdirSync(path.join(dir, 'secrets')).filter((f) => f.endsWith('.tmp')), [], 'no staged file is left');
    assert.equal(await completeInterruptedCommit(journal), null, 'and then there is nothing to finish');
  });

  it('has build finish an interrupted build of the same secrets first, and build --check refuse until then', async (t) => {
    const { out } = await buildInto(t, 'name: j\netcd: { version: "3.5.13" }\nnodes: [ { name: m1, host: 10.0.0.1 } ]\n');
    const dir = path.dirname(out);
    const journal = path.join(dir, 'secrets', '.etcd-gen-commit.json');
    const note = path.join(out, 'notes.txt');
    const blocked = path.join(out, 'blocked');
    mkdirSync(path.join(blocked, 'inside'), { recursive: true });
    const run = failingCommit(journal, [blocked, note], path.join(out, 'nothing'));
    t.after(() => run.child.kill('SIGKILL'));
    assert.match(await run.failed, /^failed: /);
    run.child.kill('SIGKILL');
    await run.exited;
    rmSync(blocked, { recursive: true });

    const checked = runCli(['build', 'cluster.yaml', '-o', 'out', '--check'], { cwd: dir });
    assert.equal(checked.status, 2, checked.stderr);
    assert.match(checked.stderr, /a build is putting its files in place, or died doing so \(secrets\/\.etcd-gen-commit\.json\): .*run etcd-gen build to finish it/);
    const built = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stderr, /finished the build that stopped at \S+ while putting its files in place \(2 left to rename\)/);
    assert.equal(readFileSync(note, 'utf8'), 'new');
    assert.ok(!existsSync(journal));
    assert.equal(runCli(['build', 'cluster.yaml', '-o', 'out', '--check'], { cwd: dir }).status, 0);
  });
});
