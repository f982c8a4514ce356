/**
 * `npm run releases:check`: what the Go module proxy serves of each etcd line, against src/etcd/releases.ts.
 * It asks through the Go tool (`go list -m -versions go.etcd.io/etcd/server/v3`, as GOPROXY points), and
 * then asks once per line for the patch after the newest it found (`go list -m ...@v3.X.(N+1)`), since a
 * proxy's version list can lag what it serves. 3.4 has no go.etcd.io/etcd/server/v3 module and is out of
 * support: not checked.
 *
 * Exit 0: the table is up to date; 1: the table is behind (each line says how); 3: the proxy could not be
 * asked (no network, no go), which says nothing about the table. It needs the network, so no test tier
 * runs it; .ci/run runs it and prints its answer without failing on it (see docs/releases.md).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RELEASE_LINES, type ReleaseLine } from '../src/etcd/releases.js';

export const SERVER_MODULE = 'go.etcd.io/etcd/server/v3';

/** One line's answer: the table's newest patch and the newest the proxy serves (null: none served). */
export interface LineCheck {
  minor: number;
  table: number;
  served: number | null;
}

/** The newest patch per minor among Go module versions such as `v3.7.4` (pre-releases are left out). */
export function newestServed(versions: readonly string[]): Map<number, number> {
  const newest = new Map<number, number>();
  for (const v of versions) {
    const m = /^v3\.(\d+)\.(\d+)$/.exec(v.trim());
    if (!m) continue;
    const minor = Number(m[1]);
    const patch = Number(m[2]);
    if (patch > (newest.get(minor) ?? -1)) newest.set(minor, patch);
  }
  return newest;
}

/** Each line of the table that has a server module (3.5 on), against what is served. */
export function checkLines(lines: readonly ReleaseLine[], served: ReadonlyMap<number, number>): LineCheck[] {
  return lines.filter((l) => l.minor >= 5).map((l) => ({ minor: l.minor, table: l.newestPatch, served: served.get(l.minor) ?? null }));
}

/** The report's line for one line of the table. */
export function describe(c: LineCheck): string {
  if (c.served === null) return `3.${c.minor}: the table has 3.${c.minor}.${c.table}; the proxy serves no 3.${c.minor} release (cannot tell)`;
  if (c.served > c.table) return `3.${c.minor}: BEHIND: the proxy serves 3.${c.minor}.${c.served}, the table stops at 3.${c.minor}.${c.table} (src/etcd/releases.ts explains the update)`;
  if (c.served < c.table) return `3.${c.minor}: the table has 3.${c.minor}.${c.table}, the proxy lists up to 3.${c.minor}.${c.served}`;
  return `3.${c.minor}: up to date at 3.${c.minor}.${c.table}`;
}

function goList(args: string[]): string {
  return execFileSync('go', ['list', '-m', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000, env: { ...process.env, GOFLAGS: '-mod=mod' } });
}

function main(): number {
  let versions: string[];
  try {
    versions = goList(['-versions', SERVER_MODULE]).trim().split(/\s+/).slice(1);
  } catch (e) {
    process.stdout.write(`releases:check: could not ask the Go module proxy (${(e as Error).message.split('\n')[0]}): the table is not checked\n`);
    return 3;
  }
  const served = newestServed(versions);
  // The patch after the newest listed, asked for by name (a single look-up per line).
  for (const line of RELEASE_LINES.filter((l) => l.minor >= 5)) {
    const next = Math.max(served.get(line.minor) ?? 0, line.newestPatch) + 1;
    try {
      goList([`${SERVER_MODULE}@v3.${line.minor}.${next}`]);
      served.set(line.minor, next);
    } catch {
      // not served: the listed newest stands
    }
  }
  const checks = checkLines(RELEASE_LINES, served);
  for (const c of checks) process.stdout.write(`${describe(c)}\n`);
  return checks.some((c) => c.served !== null && c.served > c.table) ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
