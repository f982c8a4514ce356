/**
 * The secrets directory on disk: one `<id>.crt` and `<id>.key` per certificate (ids from profiles.ts),
 * the directory 0700, keys 0600. Reads what is there; writes only what the PKI stage issued.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeAtomic } from '../fsutil.js';
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

/** Writes new and reissued pairs; each file lands whole (temp file, then rename). Returns the files written. */
export async function writeSecrets(dir: string, pairs: Iterable<CertPair>): Promise<string[]> {
  const written: string[] = [];
  const fresh = [...pairs].filter((p) => p.action !== 'reused');
  if (fresh.length === 0) return written;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomic(path.join(dir, '.gitignore'), GITIGNORE, 0o644, false);
  for (const pair of fresh) {
    const keyFile = secretFile(dir, pair.spec.id, 'key');
    await mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    // A CA key is only ever created, never overwritten: the exclusive flag makes that hold even in a race.
    await writeAtomic(keyFile, pair.keyPem, 0o600, pair.spec.id === CA_ID);
    await writeAtomic(secretFile(dir, pair.spec.id, 'crt'), pair.certPem, 0o644, pair.spec.id === CA_ID);
    written.push(keyFile, secretFile(dir, pair.spec.id, 'crt'));
  }
  return written;
}
