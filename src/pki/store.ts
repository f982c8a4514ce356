/**
 * The secrets directory on disk: one `<id>.crt` and `<id>.key` per certificate (ids from profiles.ts),
 * the directory 0700, keys 0600. Reads what is there; writes only what the PKI stage issued.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileTransaction } from '../fsutil.js';
import type { CertPair, StoredPair } from './index.js';
import { CA_ID } from './profiles.js';

export function secretFile(dir: string, id: string, ext: 'crt' | 'key'): string {
  return path.join(dir, ...id.split('/')) + `.${ext}`;
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function readSecrets(dir: string, ids: readonly string[]): Promise<Map<string, StoredPair>> {
  const stored = new Map<string, StoredPair>();
  for (const id of ids) {
    stored.set(id, {
      certPem: await readIfPresent(secretFile(dir, id, 'crt')),
      keyPem: await readIfPresent(secretFile(dir, id, 'key')),
    });
  }
  return stored;
}

const GITIGNORE = '# Written by etcd-gen: this directory holds the cluster\'s CA key and every private key.\n# Never commit it unencrypted; back it up somewhere safe.\n*\n';

/** Stages new and reissued pairs in the transaction: keys 0600 in directories 0700; a CA key only ever created. */
export function stageSecrets(tx: FileTransaction, dir: string, pairs: Iterable<CertPair>): string[] {
  const written: string[] = [];
  const fresh = [...pairs].filter((p) => p.action !== 'reused');
  if (fresh.length === 0) return written;
  tx.write(path.join(dir, '.gitignore'), GITIGNORE, 0o644, { dirMode: 0o700 });
  for (const pair of fresh) {
    const isCa = pair.spec.id === CA_ID;
    for (const [ext, contents, mode] of [['key', pair.keyPem, 0o600], ['crt', pair.certPem, 0o644]] as const) {
      const file = secretFile(dir, pair.spec.id, ext);
      tx.write(file, contents, mode, { exclusive: isCa, dirMode: 0o700 });
      written.push(file);
    }
  }
  return written;
}
