/**
 * Writing files so that a reader never sees half of one, and a build that fails halfway changes nothing:
 * a FileTransaction stages every new file beside its target first, and only when all are staged renames
 * them into place and removes what is to go. With a journal, a build that dies among the renames is
 * finished by the next one (completeInterruptedCommit), so secrets and output never stay half old, half
 * new: a key without its certificate would stop every later build.
 */
import { chmod, link, lstat, mkdir, open, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../diagnostics.js';

interface Staged {
  target: string;
  contents: string | Buffer;
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
  write(target: string, contents: string | Buffer, mode: number, options: { exclusive?: boolean; durable?: boolean; dirMode?: number } = {}): void {
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
   *
   * With `journal`, the renames and removals are written to that file (created only if absent, flushed)
   * before the first of them, and it is removed after the last: while it exists, no other commit with the
   * same journal starts, and if this process dies in between, completeInterruptedCommit finishes the job.
   */
  async commit(journal?: string): Promise<void> {
    const staged: string[] = [];
    const createdDirs: string[] = [];
    const remaining: Remaining = {
      renames: this.writes.filter((w) => !w.exclusive).map((w) => [w.target + this.suffix, w.target]),
      unlinks: this.writes.filter((w) => w.exclusive).map((w) => w.target + this.suffix),
      removals: this.removals.map((r) => ({ target: r.target, pruneUpTo: r.pruneUpTo ?? null })),
      syncDirs: [...new Set(this.writes.filter((w) => w.durable).map((w) => path.dirname(w.target)))],
    };
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
      if (journal !== undefined && this.size > 0) {
        createdDirs.push(...(await mkdirs(path.dirname(journal), 0o700)));
        await createJournal(journal, { etcdGenJournal: 1, committer: await committer(process.pid), at: new Date().toISOString(), ...remaining });
      }
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
    await finish(remaining, false);
    if (journal !== undefined && this.size > 0) await removeJournal(journal);
  }
}

/** What a commit still has to do once everything is staged. */
interface Remaining {
  /** [staged file, target] pairs to rename. */
  renames: [string, string][];
  /** Staged files of exclusive writes, already linked into place. */
  unlinks: string[];
  removals: { target: string; pruneUpTo: string | null }[];
  /** Directories of durable files, flushed last. */
  syncDirs: string[];
}

/** What a commit still has to do, and who is doing it: written before the first rename. */
export interface Journal extends Remaining {
  etcdGenJournal: 1;
  committer: Committer;
  /** When the commit began its renames (ISO 8601). */
  at: string;
}

/**
 * Puts staged files in place, removes what is to go and flushes the directories of durable files.
 * `resuming` a commit that died partway, a staged file already renamed is skipped. Returns how many
 * files it renamed.
 */
async function finish(r: Remaining, resuming: boolean): Promise<number> {
  let renamed = 0;
  for (const [staged, target] of r.renames) {
    try {
      await rename(staged, target);
      renamed++;
    } catch (err) {
      if (!resuming || (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  for (const staged of r.unlinks) await rm(staged, { force: resuming });
  for (const removal of r.removals) {
    await rm(removal.target, { force: true });
    if (removal.pruneUpTo) await pruneEmptyDirs(removal.pruneUpTo, path.dirname(removal.target));
  }
  for (const dir of r.syncDirs) await syncDir(dir);
  return renamed;
}

/** A process, named so that a later one can tell whether it still runs: pid, boot and start time. */
interface Committer {
  pid: number;
  /** The kernel's boot id (Linux), or null. */
  boot: string | null;
  /** The process's start time in clock ticks since boot (Linux /proc/PID/stat field 22), or null. */
  start: string | null;
}

async function committer(pid: number): Promise<Committer> {
  const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => null))?.trim() ?? null;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  // The command name, field 2, is in parentheses and may hold spaces: count fields after the last ')'.
  const start = stat === null ? null : (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null);
  return { pid, boot, start };
}

/** Whether the process that wrote a journal is still running (and so still committing). */
async function stillRunning(c: Committer): Promise<boolean> {
  const now = await committer(c.pid);
  if (c.boot !== null && now.boot !== null) {
    if (c.boot !== now.boot) return false;
    if (c.start !== null) return now.start === c.start;
  }
  try {
    process.kill(c.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function createJournal(file: string, journal: Journal): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(journal, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new UsageError(journalBusy(file, await readJournal(file).catch(() => null)));
  } finally {
    await unlink(tmp);
  }
  await syncDir(path.dirname(file));
}

async function removeJournal(file: string): Promise<void> {
  await unlink(file);
  await syncDir(path.dirname(file));
}

async function readJournal(file: string): Promise<Journal | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const j = JSON.parse(text) as Partial<Journal>;
  if (j.etcdGenJournal !== 1 || !Array.isArray(j.renames) || !Array.isArray(j.unlinks) || !Array.isArray(j.removals) || !Array.isArray(j.syncDirs) || !j.committer) {
    throw new Error('not an etcd-gen journal');
  }
  return j as Journal;
}

const journalBusy = (file: string, j: Journal | null): string =>
  `another etcd-gen build${j ? ` (pid ${j.committer.pid}, since ${j.at})` : ''} is writing these files (${file}): wait for it to finish, then build again`;

/** Whether a commit with this journal is under way, or died before it finished. */
export async function journalPending(file: string): Promise<boolean> {
  return exists(file);
}

/**
 * Finishes a commit whose process died among its renames, as its journal says: renames what is still
 * staged, removes what was to go, then the journal. Returns what it did, or null when there was nothing
 * to finish. Refuses while the process that wrote the journal still runs.
 */
export async function completeInterruptedCommit(file: string): Promise<{ at: string; renamed: number } | null> {
  let journal: Journal | null;
  try {
    journal = await readJournal(file);
  } catch (err) {
    // A journal that cannot be read (its directory is a file, no permission) is an I/O failure, said as such.
    if ((err as NodeJS.ErrnoException).syscall) throw err;
    throw new UsageError(`${file} is not a journal etcd-gen wrote: move it away, then build again`);
  }
  if (journal === null) return null;
  if (await stillRunning(journal.committer)) throw new UsageError(journalBusy(file, journal));
  const renamed = await finish(journal, true);
  await removeJournal(file);
  return { at: journal.at, renamed };
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
