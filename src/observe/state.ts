/**
 * The files of `etcd-gen status`, at the edge: out/expected.json and the admin certificate (read), and
 * state/observed.json beside cluster.yaml (written by status, committed by users; read by a later plan).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../diagnostics.js';
import { ADMIN_ID } from '../pki/profiles.js';
import { EXPECTED_FILE, type ExpectedCluster } from '../render/expected.js';
import type { ClientTls } from './live.js';
import type { Observation } from './types.js';

/** A file's text, or null when it does not exist; any other read error is thrown (exit 2 at the CLI). */
async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** state/observed.json beside the cluster.yaml. */
export const observationFile = (configFile: string): string => path.join(path.dirname(path.resolve(configFile)), 'state', 'observed.json');

/** out/expected.json. Throws UsageError when out/ has none (built by an older etcd-gen, or not built). */
export async function readExpected(outDir: string): Promise<ExpectedCluster> {
  const file = path.join(outDir, EXPECTED_FILE);
  const text = await readIfPresent(file);
  if (text === null) throw new UsageError(`${file} does not exist`, `Run etcd-gen build first: it writes ${EXPECTED_FILE}, what status compares the cluster with.`);
  return JSON.parse(text) as ExpectedCluster;
}

/**
 * The admin client's certificate and key and the CA bundle: out/admin/pki/, or the secrets directory's
 * clients/admin.crt and .key when out/ holds the key sealed (admin.key.age). Throws UsageError when
 * neither has a plain key.
 */
export async function readAdminTls(outDir: string, secretsDir: string): Promise<ClientTls> {
  const pki = path.join(outDir, 'admin', 'pki');
  const ca = await readIfPresent(path.join(pki, 'ca.crt'));
  let cert = await readIfPresent(path.join(pki, 'admin.crt'));
  let key = await readIfPresent(path.join(pki, 'admin.key'));
  if (key === null) {
    // The secrets directory's layout (and its age library) only when out/ holds the key sealed.
    const { secretFile } = await import('../pki/store.js');
    cert = await readIfPresent(secretFile(secretsDir, ADMIN_ID, 'crt'));
    key = await readIfPresent(secretFile(secretsDir, ADMIN_ID, 'key'));
  }
  if (ca === null || cert === null || key === null) {
    throw new UsageError(
      `no plain admin certificate and key in ${pki} or ${secretsDir}`,
      'status connects with the admin certificate: decrypt admin/pki/admin.key.age (age -d) or pass --secrets with a plain secrets directory.',
    );
  }
  return { ca, cert, key };
}

/** Writes state/observed.json (two-space JSON, final newline) through a temporary file and a rename. */
export async function writeObservation(file: string, observation: Observation): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(observation, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
}

/** Reads an observation file, or null when there is none. */
export async function readObservation(file: string): Promise<Observation | null> {
  const text = await readIfPresent(file);
  return text === null ? null : (JSON.parse(text) as Observation);
}
