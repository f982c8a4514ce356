/**
 * Stage 6, write: put the rendered tree on disk. Only files that changed are written, each atomically
 * (temp file, then rename) with its mode; files an earlier build wrote and this one no longer produces are
 * removed; nothing else in the directory is touched. manifest.json, written last, records what was written.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './diagnostics.js';
import type { OutputFile } from './render.js';
import { writeAtomic } from './fsutil.js';

export const MANIFEST = 'manifest.json';

export interface ManifestEntry {
  path: string;
  role: string;
  mode: string;
  /** `user:group` where the file is installed, for files that go on a member. */
  owner?: string;
  sha256: string;
}

export interface Manifest {
  generator: 'etcd-gen';
  notice: string;
  etcdGenVersion: string;
  cluster: string;
  files: ManifestEntry[];
}

export interface ExistingOutput {
  manifest: Manifest | null;
  /** The CA certificate the existing output carries (admin/pki/ca.crt), if any. */
  caPem: string | null;
}

export const OUTPUT_CA = 'admin/pki/ca.crt';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
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

export function buildManifest(files: readonly OutputFile[], meta: Omit<Manifest, 'files' | 'generator'>): Manifest {
  return {
    generator: 'etcd-gen',
    ...meta,
    files: files.map((f) => ({ path: f.path, role: f.role, mode: octal(f.mode), ...(f.owner ? { owner: f.owner } : {}), sha256: sha256(f.contents) })),
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

async function unchanged(file: string, contents: string, mode: number): Promise<boolean> {
  try {
    const st = await lstat(file);
    if (!st.isFile() || (st.mode & 0o777) !== mode) return false;
    return (await readFile(file, 'utf8')) === contents;
  } catch {
    return false;
  }
}

export async function writeOutput(outDir: string, files: readonly OutputFile[], manifest: Manifest, previous: Manifest | null): Promise<WriteReport> {
  const report: WriteReport = { written: [], unchanged: [], removed: [] };
  await mkdir(outDir, { recursive: true });
  for (const f of files) {
    const target = safeJoin(outDir, f.path);
    if (await unchanged(target, f.contents, f.mode)) {
      report.unchanged.push(f.path);
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeAtomic(target, f.contents, f.mode, false);
    report.written.push(f.path);
  }
  const current = new Set(files.map((f) => f.path));
  for (const old of previous?.files ?? []) {
    if (current.has(old.path) || old.path === MANIFEST) continue;
    const target = safeJoin(outDir, old.path);
    try {
      if (!(await lstat(target)).isFile()) continue;
    } catch {
      continue;
    }
    await rm(target);
    report.removed.push(old.path);
    await pruneEmptyDirs(outDir, path.dirname(target));
  }
  const text = manifestText(manifest);
  if (!(await unchanged(path.join(outDir, MANIFEST), text, 0o644))) await writeAtomic(path.join(outDir, MANIFEST), text, 0o644, false);
  return report;
}

async function pruneEmptyDirs(root: string, dir: string): Promise<void> {
  const top = path.resolve(root);
  let current = path.resolve(dir);
  while (current.startsWith(`${top}${path.sep}`)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = path.dirname(current);
  }
}
