/**
 * The secrets directory on disk: one `<id>.crt` and `<id>.key` per certificate (ids from profiles.ts), the
 * directory 0700, keys 0600, or `<id>.key.age` when cluster.yaml keeps the secrets age-encrypted. Reads
 * what is there; stages only what the PKI stage issued (and the encrypted form of keys kept in the clear
 * until encryption was turned on).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileDiagnostic, InputError, type Diagnostic } from '../diagnostics.js';
import type { FileTransaction } from '../output/transaction.js';
import { decryptWith, encryptTo } from '../output/seal.js';
import type { CertPair, SecretOp, StoredPair } from './index.js';
import { CA_ID } from './profiles.js';

export function secretFile(dir: string, id: string, ext: 'crt' | 'key' | 'key.age'): string {
  return path.join(dir, ...id.split('/')) + `.${ext}`;
}

/** A file's text, or null when it does not exist; any other read error is thrown. */
export async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function secretsError(file: string, message: string): InputError {
  return new InputError([fileDiagnostic(file, message)]);
}

/** Every stored pair; encrypted keys are opened with `identity`. */
export async function readSecrets(dir: string, ids: readonly string[], identity: string | null): Promise<Map<string, StoredPair>> {
  const stored = new Map<string, StoredPair>();
  for (const id of ids) {
    const certPem = await readIfPresent(secretFile(dir, id, 'crt'));
    let keyPem = await readIfPresent(secretFile(dir, id, 'key'));
    let keyEncrypted = false;
    if (keyPem === null) {
      const sealedFile = secretFile(dir, id, 'key.age');
      const sealed = await readIfPresent(sealedFile);
      if (sealed !== null) {
        keyEncrypted = true;
        if (identity === null) {
          throw secretsError(sealedFile, 'this key is age-encrypted: pass the identity with --identity FILE or the ETCD_GEN_AGE_IDENTITY variable');
        }
        try {
          keyPem = await decryptWith(identity, sealed);
        } catch {
          throw secretsError(sealedFile, 'the given age identity cannot decrypt this key: use an identity whose recipient is in age.recipients');
        }
      }
    }
    stored.set(id, { certPem, keyPem, keyEncrypted });
  }
  return stored;
}

/** Only the certificates (for reports): never needs an identity. */
export async function readCertificates(dir: string, ids: readonly string[]): Promise<Map<string, StoredPair>> {
  const stored = new Map<string, StoredPair>();
  for (const id of ids) stored.set(id, { certPem: await readIfPresent(secretFile(dir, id, 'crt')), keyPem: null });
  return stored;
}

export const SECRETS_GITIGNORE = "# Written by etcd-gen: this directory holds the cluster's CA key and every private key.\n# Never commit it unencrypted; back it up somewhere safe.\n*\n";
/** The journal of a build writing its files (src/output/transaction.ts), kept with the secrets it must not leave half done. */
export const COMMIT_JOURNAL = '.etcd-gen-commit.json';
/** With age.encryptSecrets the keys here are ciphertext, meant to be committed; a plaintext key never is. */
const GITIGNORE_ENCRYPTED =
  "# Written by etcd-gen: the keys here are age-encrypted (*.key.age) and may be committed with the\n# certificates; a decrypted key (*.key) never should.\n*.key\n" +
  `${COMMIT_JOURNAL}*\n`;

/**
 * A warning when the secrets directory exists and others may read or enter it: it holds the CA key.
 * etcd-gen creates it 0700 and leaves an existing one's mode to its owner.
 */
export async function secretsDirWarnings(dir: string): Promise<Diagnostic[]> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory() || (st.mode & 0o077) === 0) return [];
    const mode = `0${(st.mode & 0o777).toString(8)}`;
    return [fileDiagnostic(dir, `the secrets directory is mode ${mode}: others may reach the CA key; chmod 700 it`, 'warning')];
  } catch {
    return [];
  }
}

/**
 * Stages new and reissued pairs: keys 0600 in directories 0700, a CA key only ever created. With
 * `recipients`, keys are stored age-encrypted, and keys still stored in the clear are encrypted in place.
 */
export async function stageSecrets(
  tx: FileTransaction,
  dir: string,
  pairs: Iterable<CertPair>,
  recipients: readonly string[] | null,
  stored: ReadonlyMap<string, StoredPair> = new Map(),
  ops: readonly SecretOp[] = [],
): Promise<string[]> {
  const written: string[] = [];
  // Everything here is a secret: directories 0700, and flushed to disk, since no build can make it again.
  const write = (file: string, contents: string, mode: number, exclusive: boolean): void => {
    tx.write(file, contents, mode, { exclusive, dirMode: 0o700, durable: true });
    written.push(file);
  };
  for (const op of ops) {
    if (op.kind === 'remove') {
      tx.remove(secretFile(dir, op.id, op.ext));
      if (op.ext === 'key') tx.remove(secretFile(dir, op.id, 'key.age'));
      continue;
    }
    const sealed = op.ext === 'key' && recipients !== null;
    const file = secretFile(dir, op.id, sealed ? 'key.age' : op.ext);
    const contents = sealed ? await encryptTo(recipients, op.contents) : op.contents;
    write(file, contents, op.ext === 'key' ? 0o600 : 0o644, op.exclusive);
    if (op.ext === 'key') tx.remove(secretFile(dir, op.id, sealed ? 'key' : 'key.age'));
  }
  for (const pair of pairs) {
    const fresh = pair.action !== 'reused';
    const toEncrypt = recipients !== null && !fresh && stored.get(pair.spec.id)?.keyEncrypted === false;
    if (!fresh && !toEncrypt) continue;
    // A CA key is only ever created, never written over: the one exception is the replacement of an
    // expired CA (--rotate-ca), the only way a CA pair is 'reissued'.
    const newCa = pair.spec.id === CA_ID && pair.action === 'issued';
    if (recipients !== null) {
      const file = secretFile(dir, pair.spec.id, 'key.age');
      write(file, await encryptTo(recipients, pair.keyPem), 0o600, newCa);
      if (toEncrypt) tx.remove(secretFile(dir, pair.spec.id, 'key'));
    } else {
      const file = secretFile(dir, pair.spec.id, 'key');
      write(file, pair.keyPem, 0o600, newCa);
    }
    if (fresh) {
      const crt = secretFile(dir, pair.spec.id, 'crt');
      write(crt, pair.certPem, 0o644, newCa);
    }
  }
  if (written.length > 0) tx.write(path.join(dir, '.gitignore'), recipients !== null ? GITIGNORE_ENCRYPTED : SECRETS_GITIGNORE, 0o644, { dirMode: 0o700 });
  return written;
}
