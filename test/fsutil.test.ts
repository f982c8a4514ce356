import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FileTransaction, writeAtomic } from '../src/fsutil.js';
import { tempDir } from './helpers.js';

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
});
