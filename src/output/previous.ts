/**
 * The previous build: the pipeline's second input, read once, at the edge, into plain data. It is what an
 * earlier `etcd-gen build` left in the output directory: manifest.json (what was written, for which members
 * and which cluster identity), the CA certificate the output carries, the sealed keys (so an unchanged key
 * keeps its ciphertext), and what runbooks/takeover.sh recorded. Every stage after it takes this data; only
 * write (src/output/write.ts), the last, looks at the output directory again, to compare the new files
 * with what is there.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileDiagnostic, InputError } from '../diagnostics.js';
import { peerCommonName } from '../model/types.js';
import type { KnownIdentity } from '../model/identity.js';
import { MANIFEST, OUTPUT_CA, safeJoin, type Manifest } from './files.js';

/** What runbooks/takeover.sh writes into the output once it has seen every member run this output's unit. */
export const TAKEOVER_RECORD = 'takeover.json';

export interface PreviousBuild {
  /** manifest.json of the earlier build; null for an empty or new output directory. */
  manifest: Manifest | null;
  /** The CA certificate the output carries (admin/pki/ca.crt), if any. */
  caPem: string | null;
  /** The deployed cluster identity the earlier build recorded (or derived for older manifests); null with no manifest. */
  identity: KnownIdentity | null;
  /** The sealed files (`*.age`) the manifest lists, as they are on disk: path -> ciphertext (missing ones left out). */
  sealed: ReadonlyMap<string, string>;
  /**
   * out/takeover.json: the members takeover.sh has moved onto this output's unit. `missing` when there is
   * none, `unreadable` when it is not the JSON takeover.sh writes.
   */
  takeover: { moved: string[] } | 'missing' | 'unreadable';
}

function fail(file: string, message: string): InputError {
  return new InputError([fileDiagnostic(file, message)]);
}

const NONE: PreviousBuild = { manifest: null, caPem: null, identity: null, sealed: new Map(), takeover: 'missing' };

/**
 * Reads what an earlier build left in `outDir`. Refuses a directory with other content (exit 2, at the
 * directory), so a mistyped -o never clobbers something that is not etcd-gen's.
 */
export async function readPreviousBuild(outDir: string): Promise<PreviousBuild> {
  let entries: string[];
  try {
    const st = await stat(outDir);
    if (!st.isDirectory()) throw fail(outDir, 'the output path exists and is not a directory: choose another -o');
    entries = await readdir(outDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return NONE;
    throw err;
  }
  if (entries.length === 0) return NONE;
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
  const read = (relative: string): Promise<string | null> => readOutputFile(outDir, relative);
  const sealed = new Map<string, string>();
  for (const entry of manifest.files) {
    if (!entry.sealed) continue;
    const text = await read(entry.path);
    if (text !== null) sealed.set(entry.path, text);
  }
  return {
    manifest,
    caPem: await read(OUTPUT_CA),
    identity: await previousIdentity(manifest, read),
    sealed,
    takeover: takeoverRecord(await read(TAKEOVER_RECORD)),
  };
}

function takeoverRecord(text: string | null): PreviousBuild['takeover'] {
  if (text === null) return 'missing';
  try {
    const moved = (JSON.parse(text) as { moved?: unknown } | null)?.moved;
    return Array.isArray(moved) ? { moved: moved.map(String) } : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** The text of a file the output holds now, or null. */
async function readOutputFile(outDir: string, relative: string): Promise<string | null> {
  try {
    return await readFile(safeJoin(outDir, relative), 'utf8');
  } catch {
    return null;
  }
}

/** An ETCD_* value from etcd.conf text (single-quoted by the q helper), or null. */
function confValue(conf: string, name: string): string | null {
  const line = conf.split('\n').find((l) => l.startsWith(`${name}=`));
  return line === undefined ? null : line.slice(name.length + 1).replace(/^'(.*)'$/, '$1');
}

/**
 * The deployed identity an earlier build recorded. Manifests written before `identity` was recorded give
 * the peer CN (derived from their `cluster`, as those builds did) and the ports (from the members' URLs);
 * `readFile` (a file of the previous output, or null) supplies the token, release and TLS policy from a
 * member's etcd.conf when it is there.
 */
async function previousIdentity(manifest: Manifest, readFile: (relative: string) => Promise<string | null>): Promise<KnownIdentity> {
  if (manifest.identity) return manifest.identity;
  const port = (url: string | undefined): number | null => {
    const m = /:(\d+)$/.exec(url ?? '');
    return m ? Number(m[1]) : null;
  };
  const first = manifest.members?.[0];
  const client = port(first?.clientUrl);
  const peer = port(first?.peerUrl);
  const confPath = manifest.files.find((f) => f.role === 'member-config')?.path;
  const conf = confPath ? await readFile(confPath) : null;
  const version = conf ? (/^# etcd (3\.\d+\.\d+) configuration/m.exec(conf)?.[1] ?? null) : null;
  return {
    token: conf ? confValue(conf, 'ETCD_INITIAL_CLUSTER_TOKEN') : null,
    peerCommonName: conf ? (confValue(conf, 'ETCD_PEER_CERT_ALLOWED_CN') ?? peerCommonName(manifest.cluster)) : peerCommonName(manifest.cluster),
    ports: client !== null && peer !== null ? { client, peer } : null,
    etcdVersion: version,
    tls: conf ? { minVersion: confValue(conf, 'ETCD_TLS_MIN_VERSION'), cipherSuites: (confValue(conf, 'ETCD_CIPHER_SUITES') ?? '').split(',').filter(Boolean) } : null,
  };
}
