/**
 * The etcd releases etcd-gen knows, as data: which patch releases exist per line, which lines upstream
 * still supports, and which releases carry known defects or fall below the minimums Kubernetes
 * recommends. Pure data and pure look-ups; validate turns them into diagnostics.
 *
 * To update (test/etcd-releases.test.ts fails when a line's newest patch has no flag list):
 * 1. Set `newestPatch` of the line from etcd's GitHub releases or CHANGELOG-3.x.md (last checked 2026-12-07).
 * 2. Extend data/etcd-flags/3.x.txt to that patch (its header names the newest patch it covers), then
 *    run `npm run etcd:flag-kinds`, which reads the flag kinds from that patch's go.etcd.io/etcd/server/v3.
 * 3. Add known defects below with the release that fixes them and the source.
 * 4. Move test/etcd-matrix.txt to the new patch and run `npm run etcd:fetch` and the live tests.
 */
import type { EtcdMinor } from './flags.js';

export interface ReleaseLine {
  minor: EtcdMinor;
  /** Patch releases 0 to newestPatch exist (etcd publishes every patch of a line). */
  newestPatch: number;
  /** Null while upstream supports the line; otherwise why it does not. */
  endOfLife: string | null;
}

export interface KnownIssue {
  /** The affected releases, inclusive, as `3.minor.patch`. */
  from: string;
  to: string;
  problem: string;
  /** The release that fixes it (or the minimum to use). */
  fixedIn: string;
  source: string;
}

/**
 * Release lines, oldest first. Sources: etcd's GitHub releases and CHANGELOG-3.x.md; etcd's support
 * policy (https://etcd.io/docs/v3.6/op-guide/versioning/: the two newest minors are supported; 3.5 keeps
 * extended support for a year after 3.7.0, released 2026-07-08).
 */
export const RELEASE_LINES: readonly ReleaseLine[] = [
  { minor: 4, newestPatch: 45, endOfLife: 'etcd 3.4 is out of upstream support since 3.6.0 was released (no more fixes, security ones included)' },
  { minor: 5, newestPatch: 36, endOfLife: null },
  { minor: 6, newestPatch: 17, endOfLife: null },
  { minor: 7, newestPatch: 4, endOfLife: null },
];

/** Releases upstream or Kubernetes mark unsafe for production. */
export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    from: '3.5.0',
    to: '3.5.2',
    problem: 'can lose writes on a member that crashes under load (data inconsistency; etcd advised against 3.5 in production until 3.5.3)',
    fixedIn: '3.5.3',
    source: 'etcd CHANGELOG-3.5 v3.5.3, "fix the data inconsistency issue" (etcd-io/etcd#13908)',
  },
  {
    from: '3.4.0',
    to: '3.4.21',
    problem: 'is below the minimum Kubernetes recommends for production (3.4.22+), which fixes a revision inconsistency after a crash',
    fixedIn: '3.4.22',
    source: 'Kubernetes docs, "Operating etcd clusters for Kubernetes": minimum recommended versions 3.4.22+ and 3.5.6+',
  },
  {
    from: '3.5.3',
    to: '3.5.5',
    problem: 'is below the minimum Kubernetes recommends for production (3.5.6+), which fixes a revision inconsistency after a crash',
    fixedIn: '3.5.6',
    source: 'Kubernetes docs, "Operating etcd clusters for Kubernetes": minimum recommended versions 3.4.22+ and 3.5.6+',
  },
];

/** A release as numbers. */
export interface ReleaseNumber {
  minor: number;
  patch: number;
}

/** Parses `3.minor.patch`; null for anything else. */
export function parseRelease(text: string): ReleaseNumber | null {
  const m = /^3\.(\d+)\.(\d+)$/.exec(text);
  return m ? { minor: Number(m[1]), patch: Number(m[2]) } : null;
}

/** Negative, zero or positive as a is older than, the same as, or newer than b. */
export function compareReleases(a: ReleaseNumber, b: ReleaseNumber): number {
  return a.minor - b.minor || a.patch - b.patch;
}

/** The line of a minor version, or undefined when etcd-gen does not know it. */
export function releaseLine(minor: number): ReleaseLine | undefined {
  return RELEASE_LINES.find((l) => l.minor === minor);
}

/** The newest release of the newest line: what `init` starts a cluster on. */
export function newestRelease(): string {
  const line = RELEASE_LINES[RELEASE_LINES.length - 1];
  if (!line) throw new Error('RELEASE_LINES is empty');
  return `3.${line.minor}.${line.newestPatch}`;
}

/** `3.minor.newestPatch` of a known line. */
export function newestOfLine(line: ReleaseLine): string {
  return `3.${line.minor}.${line.newestPatch}`;
}

/** Whether the release is in the table: a known line, and a patch no newer than that line's newest. */
export function releaseExists(r: ReleaseNumber): boolean {
  const line = releaseLine(r.minor);
  return line !== undefined && r.patch <= line.newestPatch;
}

/**
 * Whether the release is a patch of a known line newer than the table's newest: etcd has released since
 * this etcd-gen. Such a release is built (a security patch must not wait for an etcd-gen release) with a
 * warning, and its etcd.extraFlags are checked against the flags of the newest known patch of its line
 * (`newestKnownOf`). etcd adds no flag in a patch release as a rule (none from 3.5.35 to 3.5.36, 3.6.16
 * to 3.6.17, 3.7.3 to 3.7.4), so those are very likely its flags too.
 */
export function beyondTable(r: ReleaseNumber): boolean {
  const line = releaseLine(r.minor);
  return line !== undefined && r.patch > line.newestPatch;
}

/** The release whose flags etcd-gen checks `r` against: `r` itself, or the newest known patch of its line. */
export function newestKnownOf(r: ReleaseNumber): ReleaseNumber {
  const line = releaseLine(r.minor);
  return line !== undefined && r.patch > line.newestPatch ? { minor: r.minor, patch: line.newestPatch } : r;
}

/** The known issues that affect a release, oldest first. */
export function issuesOf(r: ReleaseNumber): KnownIssue[] {
  return KNOWN_ISSUES.filter((i) => {
    const from = parseRelease(i.from);
    const to = parseRelease(i.to);
    return from !== null && to !== null && compareReleases(r, from) >= 0 && compareReleases(r, to) <= 0;
  });
}
