/**
 * Writing files so that a reader never sees half of one, and a build that fails halfway changes nothing:
 * a FileTransaction stages every new file beside its target first, and only when all are staged renames
 * them into place and removes what is to go.
 */
import { chmod, link, lstat, mkdir, open, rename, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a whole file with its mode: through a temporary file and a rename, or, when `exclusive`, only if
 * no file is there yet (a hard link, which fails on an existing file, makes that hold even in a race).
 */
export async function writeAtomic(file: string, contents: string, mode: number, exclusive: boolean): Promise<void> {
  const tx = new FileTransaction();
  tx.write(file, contents, mode, { exclusive, durable: true });
  await tx.commit();
}

interface Staged {
  target: string;
  contents: string;
  mode: number;
  exclusive: boolean;
  durable: boolean;
  dirMode: number | undefined;
}

export class FileTransaction {
  private readonly writes: Staged[] = [];
  private readonly removals: { target: string; pruneUpTo: string | undefined }[] = [];
  private readonly suffix = `.etcd-gen-${process.pid}-${Math.random().toString(36).slice(2, 8)}.tmp`;

  /**
   * A file to write; `dirMode` for directories created on the way (default 0755 less umask). `durable`
   * files (secrets: nothing can make them again) are flushed to disk, with their directories; the output
   * is not, since a build makes it again from cluster.yaml and the secrets.
   */
  write(target: string, contents: string, mode: number, options: { exclusive?: boolean; durable?: boolean; dirMode?: number } = {}): void {
    const exclusive = options.exclusive ?? false;
    this.writes.push({ target, contents, mode, exclusive, durable: exclusive || (options.durable ?? false), dirMode: options.dirMode });
  }

  /** A file to remove once everything is written; empty directories up to `pruneUpTo` go with it. */
  remove(target: string, pruneUpTo?: string): void {
    this.removals.push({ target, pruneUpTo });
  }

  get size(): number {
    return this.writes.length + this.removals.length;
  }

  /**
   * Stages everything (durable files flushed to disk); on any failure removes what it staged and
   * rethrows, leaving the targets as they were. Then puts the exclusive files in place first, with hard
   * links that fail if another writer got there first, then renames the rest, removes what is to go, and
   * flushes the directories of durable files, so a crash right after a build cannot lose a new CA key.
   */
  async commit(): Promise<void> {
    const staged: string[] = [];
    const createdDirs: string[] = [];
    const cleanUp = async (): Promise<void> => {
      for (const tmp of staged) await rm(tmp, { force: true });
      for (const dir of [...createdDirs].reverse()) await rmdir(dir).catch(() => undefined);
    };
    try {
      for (const w of this.writes) {
        createdDirs.push(...(await mkdirs(path.dirname(w.target), w.dirMode)));
        if (w.exclusive && (await exists(w.target))) {
          throw Object.assign(new Error(`refusing to overwrite ${w.target}`), { code: 'EEXIST', syscall: 'write', path: w.target });
        }
        const tmp = w.target + this.suffix;
        staged.push(tmp);
        const handle = await open(tmp, 'wx', w.mode);
        try {
          await handle.writeFile(w.contents);
          if (w.durable) await handle.sync();
        } finally {
          await handle.close();
        }
        await chmod(tmp, w.mode);
      }
      for (const w of this.writes.filter((x) => x.exclusive)) await link(w.target + this.suffix, w.target);
    } catch (err) {
      for (const w of this.writes.filter((x) => x.exclusive)) {
        // Undo only links this transaction made: the target is then the very file it staged.
        const [a, b] = await Promise.all([lstat(w.target).catch(() => null), lstat(w.target + this.suffix).catch(() => null)]);
        if (a && b && a.ino === b.ino && a.dev === b.dev) await unlink(w.target);
      }
      await cleanUp();
      throw err;
    }
    // Every file is staged: from here on, only renames and removals in directories that exist.
    for (const w of this.writes) {
      if (w.exclusive) await unlink(w.target + this.suffix);
      else await rename(w.target + this.suffix, w.target);
    }
    for (const r of this.removals) {
      await rm(r.target, { force: true });
      if (r.pruneUpTo) await pruneEmptyDirs(r.pruneUpTo, path.dirname(r.target));
    }
    for (const dir of new Set(this.writes.filter((w) => w.durable).map((w) => path.dirname(w.target)))) await syncDir(dir);
  }
}

/** Flushes a directory's entries (new names, renames) to disk; a no-op where directories cannot be opened. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the files themselves are flushed already.
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** mkdir -p that reports which directories it created, outermost first. */
async function mkdirs(dir: string, mode: number | undefined): Promise<string[]> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  while (!(await exists(current))) {
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of missing) await mkdir(d, mode === undefined ? {} : { mode });
  return missing;
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
