/** Writing files so that a reader never sees half of one. */
import { chmod, rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes a whole file with its mode: through a temporary file and a rename, or, when `exclusive`, only if
 * no file is there yet (the flag makes that hold even in a race).
 */
export async function writeAtomic(file: string, contents: string, mode: number, exclusive: boolean): Promise<void> {
  if (exclusive) {
    await writeFile(file, contents, { mode, flag: 'wx' });
    await chmod(file, mode);
    return;
  }
  const tmp = `${file}.etcd-gen-${process.pid}.tmp`;
  try {
    await writeFile(tmp, contents, { mode, flag: 'w' });
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
