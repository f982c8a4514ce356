/**
 * The output as data, shared by render, seal and write: the files a build produces (path, bytes, mode,
 * owner, role), how a sealed key was sealed, and manifest.json, the record of what a build wrote, for whom
 * and from what cluster identity. Pure.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { clusterIdentity, type ClusterIdentity } from '../model/identity.js';
import type { ClusterModel, FileRole, MemberEndpoints } from '../model/types.js';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;

export interface OutputFile {
  /** Path relative to the output directory, with '/' separators. */
  path: string;
  /** The text, or with `encoding: 'base64'` the bytes of a binary file (the DER CRL) in base64. */
  contents: string;
  encoding?: 'base64';
  mode: number;
  /** `user:group` the file must have where it is installed (member files only). */
  owner?: string;
  role: FileRole;
  /** The file holds a private key (a key file, or user-data that embeds keys): sealed with age when set up. */
  holdsPrivateKey?: true;
  /** Set on files written age-encrypted (src/output/seal.ts). */
  sealed?: SealInfo;
}

export interface SealInfo {
  /** SHA-256 of the plaintext key: tells whether the key changed without decrypting (a 256-bit hash reveals nothing usable of a random key). */
  plaintextSha256: string;
  /** SHA-256 of the sorted recipient list the file was encrypted to. */
  recipientsSha256: string;
}

export const MANIFEST = 'manifest.json';

export interface ManifestEntry {
  path: string;
  role: string;
  mode: string;
  /** `user:group` where the file is installed, for files that go on a member. */
  owner?: string;
  sha256: string;
  /** For age-encrypted keys: what they were encrypted from and to. */
  sealed?: SealInfo;
}

/** A member as the manifest records it: what `etcd-gen plan` compares a changed cluster.yaml with. */
export type ManifestMember = MemberEndpoints;

export interface Manifest {
  generator: 'etcd-gen';
  notice: string;
  etcdGenVersion: string;
  cluster: string;
  /**
   * What the deployed cluster is, beyond its members: the settings whose old and new forms cannot talk to
   * each other during a rolling install (src/model/identity.ts). Missing in manifests of etcd-gen before it.
   */
  identity?: ClusterIdentity;
  /** The members this output was built for: what `etcd-gen plan` compares a changed cluster.yaml with. */
  members: ManifestMember[];
  files: ManifestEntry[];
}

export const OUTPUT_CA = 'admin/pki/ca.crt';

/** What goes on disk: the text, or the bytes of a base64-encoded binary file. */
export const bytesOf = (f: { contents: string; encoding?: 'base64' }): string | Buffer => (f.encoding === 'base64' ? Buffer.from(f.contents, 'base64') : f.contents);

export function buildManifest(files: readonly OutputFile[], model: ClusterModel, etcdGenVersion: string): Manifest {
  return {
    generator: 'etcd-gen',
    notice: model.notice,
    etcdGenVersion,
    cluster: model.name,
    identity: clusterIdentity(model),
    members: model.members.map((m) => ({ name: m.name, host: m.host, peerUrl: m.peerUrl, clientUrl: m.clientUrl })),
    files: files.map((f) => ({
      path: f.path,
      role: f.role,
      mode: octal(f.mode),
      ...(f.owner ? { owner: f.owner } : {}),
      sha256: sha256(bytesOf(f)),
      ...(f.sealed ? { sealed: f.sealed } : {}),
    })),
  };
}

export function manifestText(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function manifestFile(manifest: Manifest): OutputFile {
  return { path: MANIFEST, contents: manifestText(manifest), mode: 0o644, role: 'manifest' };
}

/** A relative path that stays inside the output directory. */
export function safeJoin(outDir: string, relative: string): string {
  const normal = path.posix.normalize(relative);
  if (normal.startsWith('../') || normal === '..' || path.posix.isAbsolute(normal) || normal !== relative) {
    throw new Error(`refusing to touch ${relative}: outside the output directory`);
  }
  return path.join(outDir, ...normal.split('/'));
}
