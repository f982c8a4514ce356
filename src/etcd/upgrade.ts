/**
 * Moving a deployed cluster from one etcd release to another: the rules etcd sets, as data, and the
 * ordered steps from the release the manifest records to the one cluster.yaml asks for. Pure.
 *
 * Each step is one build of cluster.yaml at that step's release followed by one run of runbooks/upgrade.sh
 * (a rolling restart, one member at a time): `plan` prints the whole path, a build carries out exactly one
 * step, and refuses a release it cannot reach in one (naming the path that works).
 */
import { compareReleases, newestOfLine, parseRelease, releaseLine, type ReleaseNumber } from './releases.js';

/**
 * The upgrade policy of etcd's upgrade guides (https://etcd.io/docs/v3.6/upgrades/upgrading-etcd/,
 * "Upgrade policy"): patch upgrades within a minor release; minor upgrades one at a time ("upgrades that
 * skip a minor version are not supported and will likely fail"); "update to the most recent patch version
 * before upgrading to the next minor version". The last is advice etcd does not enforce: the plan takes
 * that route, and a build allows a minor step from an older patch (with a note) unless a minimum below
 * says otherwise. 3.4 -> 3.5 is refused by etcd's guide only with auth enabled (https://etcd.io/docs/v3.5/upgrades/upgrade_3_5/);
 * etcd-gen's clusters authenticate by certificate, without etcd's auth. The 3.6 guide's `etcdutl check
 * v2store` is for clusters that ever ran with --enable-v2; etcd-gen never sets it.
 */
export interface MinorMinimum {
  /** The minor release being upgraded to. */
  toMinor: number;
  /** Every member must run this release or later (of the minor below) first. */
  minimum: string;
  why: string;
  source: string;
}

/**
 * etcd's 3.5 -> 3.6 guide, section "V2 Store": `etcdutl check v2store` of 3.5.32 or later on each member's
 * data dir (not in use by etcd) before 3.6; custom v2 content in the v2 snapshot is migrated or removed,
 * in the WAL records it goes with the next v2 snapshot (etcd 3.4's /health was a v2 QGET through raft, so a
 * cluster born on 3.4 and probed there has such records until one; upgrade.sh's refusal says how to force it
 * with etcd.tuning.snapshotCount and rotate-certs.sh, which the live upgrade test carries out); 3.5.32's
 * `--v2-deprecation=write-only-skip-check` skips the check at start, at the operator's own risk.
 */
export const V2_GUIDE = 'https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/#v2-store';

/** The first 3.5 patch whose etcdutl `check v2store` inspects the WAL records too (the guide above). */
export const V2STORE_CHECK_SINCE = '3.5.32';

/** Minimums etcd documents for the step into a minor release. */
export const MINOR_MINIMUMS: readonly MinorMinimum[] = [
  {
    toMinor: 6,
    // 3.5.20 fixed "too many learner members", 3.5.24 to 3.5.26 zombie members and other blockers, and
    // 3.5.32 extends `etcdutl check v2store` to WAL records (and adds --v2-deprecation=write-only-skip-check).
    minimum: '3.5.32',
    why: 'patch releases 3.5.24 to 3.5.32 fix upgrade blockers: 3.5.26 repairs "zombie members" (members removed long ago that 3.6, reading membership from the v3 store, would bring back), and 3.5.32\'s etcdutl check v2store inspects the WAL records as well as the v2 snapshot',
    source: 'https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/ ("make sure that all of your 3.5 members are updated to 3.5.32 or later", etcd-io/website 2026-08-20); https://etcd.io/blog/2026/july-patch-release/; https://etcd.io/blog/2025/zombie_members_upgrade/',
  },
  {
    toMinor: 7,
    minimum: '3.6.11',
    why: 'the 3.7 upgrade guide requires every 3.6 member on 3.6.11 or later; 3.7 also drops every --experimental-* flag (etcd-gen writes the new names)',
    source: 'https://etcd.io/docs/v3.7/upgrades/upgrade_3_7/ ("make sure that all of your 3.6 members are updated to 3.6.11 or later")',
  },
];

/**
 * The first minor release whose etcdctl has `downgrade validate|enable|cancel` (the downgrade API,
 * etcdctl 3.6's `downgrade` command; etcdctl 3.5 has none, and 3.5 cannot go back to 3.4). A running
 * release of this minor or later can be taken one minor down through it:
 * https://etcd.io/docs/v3.6/downgrades/downgrading-etcd/.
 */
export const DOWNGRADE_API_SINCE_MINOR = 6;

export type ReleaseStepKind = 'patch-upgrade' | 'minor-upgrade' | 'patch-downgrade' | 'minor-downgrade';

/** One release move: a build at `to`, then runbooks/upgrade.sh. */
export interface ReleaseStep {
  from: string;
  to: string;
  kind: ReleaseStepKind;
  runbook: string;
  detail: string;
}

export interface ReleasePlan {
  from: string;
  to: string;
  steps: ReleaseStep[];
  /** Why the release cannot move that way at all (with what to do instead); null when it can. */
  refusal: string | null;
  /** Notes for people (an older patch stepping up a minor, the zombie-member check). */
  notes: string[];
}

const text = (r: ReleaseNumber): string => `3.${r.minor}.${r.patch}`;

/** The documented minimum for the step into `toMinor`, or null. */
export function minorMinimum(toMinor: number): MinorMinimum | null {
  return MINOR_MINIMUMS.find((m) => m.toMinor === toMinor) ?? null;
}

function newestOf(minor: number): ReleaseNumber | null {
  const line = releaseLine(minor);
  return line ? parseRelease(newestOfLine(line)) : null;
}

function stepOf(from: ReleaseNumber, to: ReleaseNumber): ReleaseStep {
  return releaseStep(text(from), text(to));
}

/** The step that moves `fromText` straight to `toText` (which releaseRefusal allows). */
export function releaseStep(fromText: string, toText: string): ReleaseStep {
  const from = parseRelease(fromText) ?? { minor: 0, patch: 0 };
  const to = parseRelease(toText) ?? { minor: 0, patch: 0 };
  const c = compareReleases(to, from);
  const kind: ReleaseStepKind = from.minor === to.minor ? (c > 0 ? 'patch-upgrade' : 'patch-downgrade') : c > 0 ? 'minor-upgrade' : 'minor-downgrade';
  const detail = {
    'patch-upgrade': `etcd ${text(from)} -> ${text(to)}: a patch upgrade; one member at a time, the leader last`,
    'minor-upgrade': `etcd ${text(from)} -> ${text(to)}: a minor upgrade; one member at a time, the leader last; the cluster version moves to 3.${to.minor} once every member runs it`,
    'patch-downgrade': `etcd ${text(from)} -> ${text(to)}: a patch downgrade within 3.${to.minor}; one member at a time, the leader last`,
    'minor-downgrade': `etcd ${text(from)} -> ${text(to)}: a minor downgrade through etcd's downgrade API (etcdctl downgrade validate and enable 3.${to.minor}), then one member at a time`,
  }[kind];
  return { from: text(from), to: text(to), kind, runbook: 'runbooks/upgrade.sh', detail };
}

/** Whether `from` -> `to` is one step a build may carry out, or why not. */
function singleStepProblem(from: ReleaseNumber, to: ReleaseNumber): string | null {
  if (to.minor > from.minor + 1) return 'skip';
  if (to.minor === from.minor + 1) {
    const min = minorMinimum(to.minor);
    const minimum = min ? parseRelease(min.minimum) : null;
    if (min && minimum && compareReleases(from, minimum) < 0) return 'below-minimum';
    return null;
  }
  if (to.minor < from.minor) {
    if (from.minor < DOWNGRADE_API_SINCE_MINOR) return 'no-downgrade-api';
    if (to.minor < from.minor - 1) return 'skip';
  }
  return null;
}

/**
 * The steps from the deployed release to the wanted one: upgrades go through the newest patch of each
 * minor on the way and stop at every documented minimum; downgrades go one minor at a time through the
 * downgrade API, and stop at 3.5 (no API), where the way back is a snapshot restored into a cluster of
 * the older release.
 */
export function planRelease(fromText: string, toText: string): ReleasePlan {
  const from = parseRelease(fromText);
  const to = parseRelease(toText);
  const plan: ReleasePlan = { from: fromText, to: toText, steps: [], refusal: null, notes: [] };
  if (!from || !to || compareReleases(from, to) === 0) return plan;
  if (compareReleases(to, from) > 0) {
    let cur = from;
    while (cur.minor < to.minor) {
      const newest = newestOf(cur.minor);
      const min = minorMinimum(cur.minor + 1);
      const minimum = min ? parseRelease(min.minimum) : null;
      // The newest patch of the current minor first (the guide's advice, and above every minimum).
      if (newest && compareReleases(newest, cur) > 0) {
        plan.steps.push(stepOf(cur, newest));
        cur = newest;
      } else if (minimum && compareReleases(cur, minimum) < 0) {
        plan.refusal = `etcd-gen knows no 3.${cur.minor} release at or above ${min?.minimum}`;
        return plan;
      }
      const next = cur.minor + 1 === to.minor ? to : newestOf(cur.minor + 1);
      if (!next) {
        plan.refusal = `etcd-gen knows no 3.${cur.minor + 1} release`;
        return plan;
      }
      plan.steps.push(stepOf(cur, next));
      cur = next;
    }
    if (compareReleases(to, cur) > 0) plan.steps.push(stepOf(cur, to));
    if (from.minor <= 5 && to.minor >= 6) {
      plan.notes.push(
        'before 3.6: every member on 3.5.32 or later (etcd\'s 3.6 upgrade guide), healthy, for a while (3.5.26 repairs "zombie members" that membership changes under older 3.5 patches, add-member.sh, replace-member.sh and remove-member.sh among them, can leave: https://etcd.io/blog/2025/zombie_members_upgrade/); upgrade.sh checks that each upgraded member lists the same members as the others',
      );
    }
    return plan;
  }
  // Downgrades.
  if (from.minor === to.minor) {
    plan.steps.push(stepOf(from, to));
    return plan;
  }
  if (from.minor < DOWNGRADE_API_SINCE_MINOR || to.minor < DOWNGRADE_API_SINCE_MINOR - 1) {
    plan.refusal = 'no-downgrade-api';
    return plan;
  }
  let cur = from;
  while (cur.minor > to.minor) {
    const next = cur.minor - 1 === to.minor ? to : newestOf(cur.minor - 1);
    if (!next) {
      plan.refusal = `etcd-gen knows no 3.${cur.minor - 1} release`;
      return plan;
    }
    plan.steps.push(stepOf(cur, next));
    cur = next;
  }
  return plan;
}

/** What a build refuses of a release change (a message from src/messages.ts), or null when it is one step. */
export type ReleaseRefusal = { kind: 'skip' | 'below-minimum' | 'no-downgrade-api'; path: ReleaseStep[]; minimum: MinorMinimum | null };

/** Whether a build may move the deployed release `fromText` to `toText` in one step; the path when not. */
export function releaseRefusal(fromText: string, toText: string): ReleaseRefusal | null {
  const from = parseRelease(fromText);
  const to = parseRelease(toText);
  if (!from || !to) return null;
  const problem = singleStepProblem(from, to);
  if (problem === null) return null;
  const plan = planRelease(fromText, toText);
  const kind = problem === 'no-downgrade-api' ? 'no-downgrade-api' : problem === 'below-minimum' ? 'below-minimum' : 'skip';
  return { kind, path: plan.refusal === null ? plan.steps : [], minimum: problem === 'below-minimum' ? minorMinimum(to.minor) : null };
}

/** The note a build prints with an allowed step from a patch older than the newest of its minor. */
export function olderPatchNote(fromText: string, toText: string): string | null {
  const from = parseRelease(fromText);
  const to = parseRelease(toText);
  const newest = from ? newestOf(from.minor) : null;
  if (!from || !to || !newest || to.minor !== from.minor + 1 || compareReleases(from, newest) >= 0) return null;
  return `etcd's upgrade guide advises the newest patch of 3.${from.minor} (${text(newest)}) before 3.${to.minor}; etcd does not require it from ${fromText}`;
}
