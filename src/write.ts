/**
 * Stage 6, write: put the rendered tree on disk. Only files that changed are written, with their modes;
 * files an earlier build wrote and this one no longer produces are removed; nothing else in the directory
 * is touched. Everything goes through one FileTransaction with the new secrets, so a build that fails
 * halfway leaves both as they were. manifest.json records what was written, and the membership it had.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './diagnostics.js';
import type { ClusterModel } from './model.js';
import type { OutputFile } from './render.js';
import type { SealInfo } from './seal.js';
import type { FileTransaction } from './fsutil.js';
import { clusterIdentity, type ClusterIdentity } from './identity.js';

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

export interface ManifestMember {
  name: string;
  host: string;
  peerUrl: string;
  clientUrl: string;
}

export interface Manifest {
  generator: 'etcd-gen';
  notice: string;
  etcdGenVersion: string;
  cluster: string;
  /**
   * What the deployed cluster is, beyond its members: the settings whose old and new forms cannot talk to
   * each other during a rolling install (src/identity.ts). Missing in manifests of etcd-gen before it.
   */
  identity?: ClusterIdentity;
  /** The members this output was built for: what `etcd-gen plan` compares a changed cluster.yaml with. */
  members: ManifestMember[];
  files: ManifestEntry[];
}

export interface ExistingOutput {
  manifest: Manifest | null;
  /** The CA certificate the existing output carries (admin/pki/ca.crt), if any. */
  caPem: string | null;
}

export const OUTPUT_CA = 'admin/pki/ca.crt';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
/** What goes on disk: the text, or the bytes of a base64-encoded binary file. */
export const bytesOf = (f: { contents: string; encoding?: 'base64' }): string | Buffer => (f.encoding === 'base64' ? Buffer.from(f.contents, 'base64') : f.contents);
const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;

function fail(file: string, message: string): InputError {
  return new InputError([{ severity: 'error', file, pointer: '', position: { line: 1, column: 1 }, message }]);
}

/**
 * Reads what an earlier build left in the output directory. Refuses a directory with other content,
 * so a mistyped -o never clobbers something that is not etcd-gen's.
 */
export async function inspectOutput(outDir: string): Promise<ExistingOutput> {
  let entries: string[];
  try {
    const st = await stat(outDir);
    if (!st.isDirectory()) throw fail(outDir, 'the output path exists and is not a directory: choose another -o');
    entries = await readdir(outDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { manifest: null, caPem: null };
    throw err;
  }
  if (entries.length === 0) return { manifest: null, caPem: null };
  const manifestPath = path.join(outDir, MANIFEST);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  } catch {
    throw fail(outDir, `the output directory is not empty and has no ${MANIFEST} from etcd-gen: choose an empty or new directory for -o`);
  }
  if (manifest.generator !== 'etcd-gen' || !Array.isArray(manifest.files)) {
    throw fail(manifestPath, `not an etcd-gen manifest: choose an empty or new directory for -o`);
  }
  let caPem: string | null = null;
  try {
    caPem = await readFile(path.join(outDir, OUTPUT_CA), 'utf8');
  } catch {
    caPem = null;
  }
  return { manifest, caPem };
}

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

export interface WriteReport {
  written: string[];
  unchanged: string[];
  removed: string[];
}

/** A relative path that stays inside the output directory. */
function safeJoin(outDir: string, relative: string): string {
  const normal = path.posix.normalize(relative);
  if (normal.startsWith('../') || normal === '..' || path.posix.isAbsolute(normal) || normal !== relative) {
    throw new Error(`refusing to touch ${relative}: outside the output directory`);
  }
  return path.join(outDir, ...normal.split('/'));
}

/**
 * Refuses a path in the output directory that goes through a symbolic link (a directory or the file
 * itself): writing or removing through one would change files outside the output. `checked` caches the
 * directories already looked at.
 */
async function refuseSymlinks(outDir: string, relative: string, checked: Set<string>): Promise<void> {
  const parts = relative.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (checked.has(prefix)) continue;
    try {
      if ((await lstat(path.join(outDir, ...parts.slice(0, i)))).isSymbolicLink()) {
        throw fail(path.join(outDir, prefix), 'is a symbolic link: etcd-gen writes only real files and directories in its output, so it cannot point outside it; remove the link and build again');
      }
    } catch (err) {
      if (err instanceof InputError) throw err;
      return;
    }
    if (i < parts.length) checked.add(prefix);
  }
}

async function sameFile(file: string, contents: string | Buffer, mode: number): Promise<'same' | 'contents' | 'mode' | 'missing'> {
  try {
    const st = await lstat(file);
    if (!st.isFile()) return 'contents';
    const same = typeof contents === 'string' ? (await readFile(file, 'utf8')) === contents : (await readFile(file)).equals(contents);
    if (!same) return 'contents';
    return (st.mode & 0o777) === mode ? 'same' : 'mode';
  } catch {
    return 'missing';
  }
}

/** Files an earlier build wrote that this one no longer produces, and that are still there. */
async function staleFiles(outDir: string, files: readonly OutputFile[], previous: Manifest | null): Promise<string[]> {
  const current = new Set(files.map((f) => f.path));
  const stale: string[] = [];
  for (const old of previous?.files ?? []) {
    if (current.has(old.path) || old.path === MANIFEST) continue;
    try {
      if ((await lstat(safeJoin(outDir, old.path))).isFile()) stale.push(old.path);
    } catch {
      continue;
    }
  }
  return stale;
}

/**
 * Stages the output in a transaction: only files whose contents or mode changed, removal of files the
 * previous build wrote and this one does not, and the manifest. Nothing is on disk until it commits.
 */
export async function stageOutput(
  tx: FileTransaction,
  outDir: string,
  files: readonly OutputFile[],
  manifest: Manifest,
  previous: Manifest | null,
): Promise<WriteReport> {
  const report: WriteReport = { written: [], unchanged: [], removed: [] };
  const checked = new Set<string>();
  for (const f of [...files, manifestFile(manifest)]) {
    const target = safeJoin(outDir, f.path);
    await refuseSymlinks(outDir, f.path, checked);
    if ((await sameFile(target, bytesOf(f), f.mode)) === 'same') {
      if (f.path !== MANIFEST) report.unchanged.push(f.path);
      continue;
    }
    tx.write(target, bytesOf(f), f.mode);
    if (f.path !== MANIFEST) report.written.push(f.path);
  }
  for (const old of await staleFiles(outDir, files, previous)) {
    await refuseSymlinks(outDir, old, checked);
    tx.remove(safeJoin(outDir, old), outDir);
    report.removed.push(old);
  }
  return report;
}

/** The text of a file the output holds now, or null. */
export async function readOutputFile(outDir: string, relative: string): Promise<string | null> {
  try {
    return await readFile(safeJoin(outDir, relative), 'utf8');
  } catch {
    return null;
  }
}

export interface Drift {
  added: string[];
  removed: string[];
  changed: { path: string; what: 'contents' | 'mode' }[];
}

/** What differs between the output on disk and a build held in memory; reads only. */
export async function compareOutput(outDir: string, files: readonly OutputFile[], manifest: Manifest, previous: Manifest | null): Promise<Drift> {
  const drift: Drift = { added: [], removed: [], changed: [] };
  for (const f of [...files, manifestFile(manifest)]) {
    const state = await sameFile(safeJoin(outDir, f.path), bytesOf(f), f.mode);
    if (state === 'missing') drift.added.push(f.path);
    else if (state !== 'same') drift.changed.push({ path: f.path, what: state });
  }
  drift.removed = await staleFiles(outDir, files, previous);
  return drift;
}

export function manifestFile(manifest: Manifest): OutputFile {
  return { path: MANIFEST, contents: manifestText(manifest), mode: 0o644, role: 'manifest' };
}
