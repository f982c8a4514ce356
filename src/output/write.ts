/**
 * Stage 10, write: put the rendered tree on disk. Only files that changed are written, with their modes;
 * files an earlier build wrote and this one no longer produces are removed; nothing else in the directory
 * is touched. Everything goes through one FileTransaction with the new secrets, so a build that fails
 * halfway leaves both as they were. manifest.json records what was written, and the membership it had.
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileDiagnostic, InputError } from '../diagnostics.js';
import type { FileTransaction } from './transaction.js';
import { bytesOf, MANIFEST, manifestFile, safeJoin, type Manifest, type OutputFile } from './files.js';


function fail(file: string, message: string): InputError {
  return new InputError([fileDiagnostic(file, message)]);
}

export interface WriteReport {
  written: string[];
  unchanged: string[];
  removed: string[];
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
