/**
 * Which etcd releases the live suites run on.
 *
 * The matrix is test/etcd-matrix.txt; scripts/etcd-fetch.sh (`npm run etcd:fetch`) puts each release's
 * binaries in $ETCD_GEN_CACHE/etcd/<version>/bin (see cacheDir). A live suite asks for
 * `every` release (e2e, sandbox, the flag check) or the `newest` of each line from 3.5 on (the runbook
 * suite, the longest). ETCD_GEN_TEST_ETCD narrows the choice: a comma-separated list of versions
 * (`3.7.3` or `3.5.35,3.7.3`), each of which must be in the cache; or `PATH`: the etcd on PATH alone,
 * cache or not (what a plain Debian machine has; under CI too, where the fallback below is off).
 *
 * Without ETCD_GEN_TEST_ETCD: under CI=true every matrix release must be in the cache (a release whose
 * binaries are missing fails the run, never a silent skip); on a laptop the cached ones run, and with
 * none cached the etcd on PATH runs, as before the matrix.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { isCI, repoRoot, run } from '../helpers.js';

export interface TestRelease {
  version: string;
  /** The directory holding etcd, etcdctl and (from 3.5) etcdutl. */
  bin: string;
}

export interface MatrixRow {
  version: string;
  source: string;
}

/** As scripts/etcd-fetch.sh chooses it: /var/cache/etcd-gen for root (a unit's sandbox hides /root), else ~/.cache/etcd-gen. */
export const cacheDir = process.env.ETCD_GEN_CACHE ?? (process.getuid?.() === 0 ? '/var/cache/etcd-gen' : path.join(os.homedir(), '.cache', 'etcd-gen'));

/** The rows of test/etcd-matrix.txt: `VERSION SOURCE [SUITE]`. */
export function matrixRows(): MatrixRow[] {
  return readFileSync(path.join(repoRoot, 'test', 'etcd-matrix.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [version = '', source = ''] = l.split(/\s+/);
      return { version, source };
    });
}

/** The cached binaries of a release, or null when scripts/etcd-fetch.sh has not put them there. */
export function cachedRelease(version: string): TestRelease | null {
  const bin = path.join(cacheDir, 'etcd', version, 'bin');
  return existsSync(path.join(cacheDir, 'etcd', version, '.complete')) && existsSync(path.join(bin, 'etcd')) ? { version, bin } : null;
}

const minorOf = (v: string): number => Number(v.split('.')[1]);
const patchOf = (v: string): number => Number(v.split('.')[2]);

/** The newest release of each line from 3.5 on, among the given versions. */
export function newestPerLine(versions: readonly string[]): string[] {
  const best = new Map<number, string>();
  for (const v of versions) {
    if (minorOf(v) < 5) continue;
    const cur = best.get(minorOf(v));
    if (cur === undefined || patchOf(v) > patchOf(cur)) best.set(minorOf(v), v);
  }
  return [...best.values()].sort((a, b) => minorOf(a) - minorOf(b));
}

/** Every matrix release, the newest of each line from 3.5 on, or the newest of one line (`3.5`). */
export type ReleaseScope = 'every' | 'newest' | `${number}.${number}`;

/**
 * The releases a suite runs on, or the reasons some cannot (missing binaries): under CI or with
 * ETCD_GEN_TEST_ETCD those make the suite fail. An empty list with no problems means: use etcd on PATH.
 */
export function selectReleases(scope: ReleaseScope): { releases: TestRelease[]; missing: string[] } {
  const asked = (process.env.ETCD_GEN_TEST_ETCD ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  if (asked.length === 1 && asked[0] === 'PATH') return { releases: [], missing: [] };
  const rows = matrixRows().map((r) => r.version);
  const line = scope !== 'every' && scope !== 'newest' ? scope : null;
  const wanted =
    asked.length > 0 ? asked : scope === 'newest' ? newestPerLine(rows) : line !== null ? newestPerLine(rows.filter((v) => v.startsWith(`${line}.`))) : rows;
  const releases: TestRelease[] = [];
  const missing: string[] = [];
  for (const v of wanted) {
    const r = cachedRelease(v);
    if (r) releases.push(r);
    else missing.push(v);
  }
  if (asked.length === 0 && !isCI && releases.length === 0) return { releases: [], missing: [] };
  if (asked.length === 0 && !isCI) return { releases, missing: [] };
  return { releases, missing };
}

/** `etcd --version` of the etcd on PATH, for the fallback without a matrix. */
function etcdOnPath(): TestRelease | null {
  const where = run('sh', ['-c', 'command -v etcd']).stdout.trim();
  if (!where) return null;
  const version = /etcd Version: (\d+\.\d+\.\d+)/.exec(run(where, ['--version']).stdout)?.[1];
  return version ? { version, bin: path.dirname(where) } : null;
}

/**
 * How many releases a live suite runs at once. Each cluster has a network namespace and users of its
 * own, and mostly waits on etcd; ETCD_GEN_TEST_PARALLEL=1 runs them one after another.
 */
const parallel = Math.max(1, Number(process.env.ETCD_GEN_TEST_PARALLEL ?? 3) || 1);

/**
 * Declares a suite NAME with one test per selected release, named `etcd VERSION`, run up to
 * ETCD_GEN_TEST_PARALLEL at a time. fn gets the release (null: the etcd on PATH) and hands it to the
 * cluster harness, so that the members, runbooks, aliases and every etcdctl of that test are of that
 * release, as they are on a member and an operator's machine.
 */
export function testEachRelease(
  name: string,
  scope: ReleaseScope,
  options: { timeout: number },
  fn: (t: TestContext, release: TestRelease | null) => Promise<void>,
): void {
  const { releases, missing } = selectReleases(scope);
  describe(name, { concurrency: parallel }, () => {
    if (missing.length > 0) {
      it(`etcd ${missing.join(', ')}`, () => {
        assert.fail(`no binaries for etcd ${missing.join(', ')} in ${cacheDir}/etcd: run \`npm run etcd:fetch\` (scripts/etcd-fetch.sh)`);
      });
    }
    const list: (TestRelease | null)[] = releases.length > 0 ? releases : missing.length > 0 ? [] : [etcdOnPath()];
    for (const release of list) it(`etcd ${release?.version ?? 'on PATH'}`, options, (t) => fn(t, release));
  });
}
