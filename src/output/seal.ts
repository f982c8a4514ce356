/**
 * Sealing: with age recipients in cluster.yaml, every file in the output that holds a private key (the key
 * files, and each member's cloud-init user-data, which embeds its keys) is written age-encrypted
 * (armored, `<file>.age`) instead of in the clear, so the whole output can be committed. age encryption is
 * randomized, so a key whose plaintext and recipients did not change keeps the ciphertext the output
 * already has (the manifest records hashes of both), and rebuilds stay byte-identical.
 */
import { createHash } from 'node:crypto';
import type { OutputFile, SealInfo } from './files.js';
import type { PreviousBuild } from './previous.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The age library, loaded only by builds that seal or open keys. */
const ageLibrary = () => import('age-encryption');

export async function encryptTo(recipients: readonly string[], plaintext: string): Promise<string> {
  const age = await ageLibrary();
  const encrypter = new age.Encrypter();
  for (const r of recipients) encrypter.addRecipient(r);
  const armored = age.armor.encode(await encrypter.encrypt(plaintext));
  return armored.endsWith('\n') ? armored : `${armored}\n`;
}

export async function decryptWith(identity: string, ciphertext: string): Promise<string> {
  const age = await ageLibrary();
  const decrypter = new age.Decrypter();
  for (const line of identity.split('\n')) {
    const id = line.trim();
    if (id.startsWith('AGE-SECRET-KEY-')) decrypter.addIdentity(id);
  }
  const bytes = ciphertext.startsWith('-----BEGIN AGE ENCRYPTED FILE-----') ? age.armor.decode(ciphertext) : new TextEncoder().encode(ciphertext);
  return decrypter.decrypt(bytes, 'text');
}

/**
 * Replaces every file that holds a private key with its sealed form. `previous` is the previous build's
 * manifest and sealed files as they are on disk (src/output/previous.ts), so unchanged keys keep their
 * ciphertext.
 */
export async function sealPrivateKeys(
  files: readonly OutputFile[],
  recipients: readonly string[] | null,
  previous: Pick<PreviousBuild, 'manifest' | 'sealed'>,
): Promise<OutputFile[]> {
  if (recipients === null) return [...files];
  const recipientsSha256 = sha256([...recipients].sort().join('\n'));
  const before = new Map((previous.manifest?.files ?? []).map((e) => [e.path, e]));
  return Promise.all(
    files.map(async (f) => {
      if (!f.holdsPrivateKey) return f;
      const sealedPath = `${f.path}.age`;
      const sealed: SealInfo = { plaintextSha256: sha256(f.contents), recipientsSha256 };
      const old = before.get(sealedPath);
      if (old?.sealed?.plaintextSha256 === sealed.plaintextSha256 && old.sealed.recipientsSha256 === recipientsSha256) {
        const onDisk = previous.sealed.get(sealedPath) ?? null;
        if (onDisk !== null && sha256(onDisk) === old.sha256) return { ...f, path: sealedPath, contents: onDisk, sealed };
      }
      return { ...f, path: sealedPath, contents: await encryptTo(recipients, f.contents), sealed };
    }),
  );
}
