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

/**
 * What a known-bad release risks: data loss or inconsistency, an upgrade that fails or harms the cluster,
 * availability (a member or the cluster stops serving), or behaviour under Kubernetes (kubeadm or
 * kube-apiserver refuse the release or turn a feature off on it).
 */
export const ISSUE_CATEGORIES = ['data-loss-or-inconsistency', 'upgrade-blocker', 'availability', 'kubernetes'] as const;
export type IssueCategory = (typeof ISSUE_CATEGORIES)[number];

/**
 * The runbook actions a known issue puts at risk: defrag.sh's defragmentation, add-member.sh while a
 * member is down, the promotion of a learner (add-member.sh, replace-member.sh), and restore.sh.
 * runbooks/cluster.sh carries the risks of the cluster's release as RELEASE_RISKS, and lib.sh's
 * release_risk says so before the runbook's first change.
 */
export const RUNBOOK_ACTIONS = ['defrag', 'member-add-with-member-down', 'learner-promotion', 'restore'] as const;
export type RunbookAction = (typeof RUNBOOK_ACTIONS)[number];

export interface KnownIssue {
  /** A short stable name (used in tests and docs/releases.md). */
  id: string;
  category: IssueCategory;
  /** The affected releases, inclusive, as `3.minor.patch` (a range may span lines). */
  from: string;
  to: string;
  problem: string;
  /** The release that fixes it (or the minimum to use). */
  fixedIn: string;
  source: string;
  /** The runbook actions at risk on an affected release. */
  atRisk: readonly RunbookAction[];
  /** Only under this Kubernetes minor or later (kubernetes.version); absent: whatever Kubernetes. */
  kubernetesFrom?: string;
}

const CL = (minor: number, patch: number, pr: number, title: string) =>
  `etcd CHANGELOG-3.${minor}.md v3.${minor}.${patch}, "${title}" (etcd-io/etcd#${pr})`;
const GUIDE_36 = 'https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/ (etcd-io/website 2026-08-20: "all of your 3.5 members are updated to 3.5.32 or later")';

/** Releases upstream or Kubernetes mark unsafe, oldest fix first within each category. */
export const KNOWN_ISSUES: readonly KnownIssue[] = [
  // Data loss or inconsistency.
  {
    id: 'inconsistent-revision-3.5.0', category: 'data-loss-or-inconsistency', from: '3.5.0', to: '3.5.2', fixedIn: '3.5.3', atRisk: [],
    problem: 'can lose writes on a member that crashes under load (data inconsistency; etcd advised against 3.5 in production until 3.5.3)',
    source: CL(5, 3, 13908, 'Inconsistent revision and data occurs'),
  },
  {
    id: 'k8s-minimum-3.4.22', category: 'data-loss-or-inconsistency', from: '3.4.0', to: '3.4.21', fixedIn: '3.4.22', atRisk: ['defrag'],
    problem: 'is below the minimum Kubernetes recommends for production (3.4.22+), which fixes a revision inconsistency after a crash during defragmentation',
    source: 'Kubernetes docs, "Operating etcd clusters for Kubernetes": minimum recommended versions 3.4.22+ and 3.5.6+',
  },
  {
    id: 'k8s-minimum-3.5.6', category: 'data-loss-or-inconsistency', from: '3.5.3', to: '3.5.5', fixedIn: '3.5.6', atRisk: ['defrag'],
    problem: 'is below the minimum Kubernetes recommends for production (3.5.6+), which fixes a revision inconsistency after a crash during defragmentation',
    source: `Kubernetes docs, "Operating etcd clusters for Kubernetes": minimum recommended versions 3.4.22+ and 3.5.6+; ${CL(5, 6, 14733, 'revision might be inconsistency between members when etcd crashes during processing defragmentation operation')}`,
  },
  {
    id: 'compaction-revision-decrease', category: 'data-loss-or-inconsistency', from: '3.5.0', to: '3.5.13', fixedIn: '3.5.14', atRisk: [],
    problem: 'can move the revision backwards after a panic during compaction',
    source: CL(5, 14, 17865, 'Revision decreasing after panic during compaction'),
  },
  {
    id: 'defrag-apply-snapshot-3.5', category: 'data-loss-or-inconsistency', from: '3.5.0', to: '3.5.22', fixedIn: '3.5.23', atRisk: ['defrag'],
    problem: 'can corrupt data when a defragmentation runs while the member applies a snapshot from the leader',
    source: CL(5, 23, 20653, 'potential data corruption when applySnapshot and defragment happen concurrently'),
  },
  {
    id: 'defrag-apply-snapshot-3.6', category: 'data-loss-or-inconsistency', from: '3.6.0', to: '3.6.4', fixedIn: '3.6.5', atRisk: ['defrag'],
    problem: 'can corrupt data when a defragmentation runs while the member applies a snapshot from the leader',
    source: CL(6, 5, 20650, 'potential data corruption when applySnapshot and defragment happen concurrently'),
  },
  {
    id: 'defrag-apply-snapshot-3.4', category: 'data-loss-or-inconsistency', from: '3.4.0', to: '3.4.37', fixedIn: '3.4.38', atRisk: ['defrag'],
    problem: 'can corrupt data when a defragmentation runs while the member applies a snapshot from the leader',
    source: CL(4, 38, 20659, 'potential data corruption when applySnapshot and defragment happen concurrently'),
  },
  // Upgrade blockers: the 3.6 upgrade guide's minimums.
  {
    id: 'too-many-learners', category: 'upgrade-blocker', from: '3.5.0', to: '3.5.19', fixedIn: '3.5.20', atRisk: ['learner-promotion'],
    problem: 'does not persist a learner promotion into the v3 store, so a 3.6 member sees the promoted member as a learner ("too many learner members", the upgrade fails)',
    source: `${CL(5, 20, 19563, 'the learner promotion changes not being persisted into v3store (bbolt)')}; ${GUIDE_36}`,
  },
  {
    id: 'zombie-members', category: 'upgrade-blocker', from: '3.5.0', to: '3.5.25', fixedIn: '3.5.26', atRisk: ['learner-promotion'],
    problem: 'can keep removed members, or unpersisted learner promotions, in its v3 store, which 3.6 reads membership from ("zombie members"); 3.5.24 to 3.5.26 repair it',
    source: `${CL(5, 26, 20995, 'zombie members in v3store')}; ${CL(5, 24, 20797, 'Learner promotion not being persisted into v3store may be propagated across multiple upgrades')}; https://etcd.io/blog/2025/zombie_members_upgrade/`,
  },
  {
    id: 'v2store-wal-check', category: 'upgrade-blocker', from: '3.5.0', to: '3.5.31', fixedIn: '3.5.32', atRisk: [],
    problem: "has an etcdutl check v2store that does not read the WAL records, which the 3.6 upgrade guide requires before any member moves to 3.6",
    source: `${CL(5, 32, 21889, 'enhance etcdutl check v2store to check both v2 snapshot and WAL records')}; ${GUIDE_36}`,
  },
  // Availability.
  {
    id: 'member-add-with-member-down-3.5', category: 'availability', from: '3.5.0', to: '3.5.29', fixedIn: '3.5.30', atRisk: ['member-add-with-member-down'],
    problem: 'refuses to add a member while one member is down, even with quorum',
    source: CL(5, 30, 21669, 'Fixed an issue that prevented adding a new member when one member was down, even though quorum was still satisfied'),
  },
  {
    id: 'member-add-with-member-down-3.6', category: 'availability', from: '3.6.0', to: '3.6.10', fixedIn: '3.6.11', atRisk: ['member-add-with-member-down'],
    problem: 'refuses to add a member while one member is down, even with quorum',
    source: CL(6, 11, 21667, 'Fixed an issue that prevented adding a new member when one member was down, even though quorum was still satisfied'),
  },
  {
    id: 'member-update-promotes-3.5', category: 'availability', from: '3.5.0', to: '3.5.30', fixedIn: '3.5.31', atRisk: ['learner-promotion'],
    problem: 'promotes a learner when its peer URLs are updated (MemberUpdate), before it has caught up',
    source: CL(5, 31, 21737, 'MemberUpdate implicitly and unexpectedly promotes a learner'),
  },
  {
    id: 'member-update-promotes-3.6', category: 'availability', from: '3.6.0', to: '3.6.11', fixedIn: '3.6.12', atRisk: ['learner-promotion'],
    problem: 'promotes a learner when its peer URLs are updated (MemberUpdate), before it has caught up',
    source: CL(6, 12, 21736, 'MemberUpdate implicitly and unexpectedly promotes a learner'),
  },
  // Behaviour under Kubernetes.
  {
    id: 'kubeadm-min-external-etcd', category: 'kubernetes', from: '3.4.0', to: '3.5.23', fixedIn: '3.5.24', atRisk: [], kubernetesFrom: '1.35',
    problem: "is below kubeadm's MinExternalEtcdVersion (3.5.24 in 1.35 to 1.37): kubeadm's preflight check ExternalEtcdVersion refuses it",
    source: 'k8s.io/kubernetes v1.37.2 cmd/kubeadm/app/constants/constants.go (MinExternalEtcdVersion = "3.5.24-0"; the same in v1.35.4 and v1.36.3)',
  },
  {
    id: 'apiserver-consistent-reads', category: 'kubernetes', from: '3.4.0', to: '3.5.12', fixedIn: '3.5.13', atRisk: [], kubernetesFrom: '1.37',
    problem: "makes kube-apiserver turn off consistent reads from its watch cache (RequestWatchProgress is broken below 3.4.31 and 3.5.13, etcd-io/etcd#17507), so every consistent list goes to etcd",
    source: 'k8s.io/apiserver v0.37.2 (Kubernetes 1.37.2) pkg/storage/feature/feature_support_checker.go, endpointSupportsRequestWatchProgress',
  },
  {
    id: 'restore-without-revision-bump', category: 'kubernetes', from: '3.4.0', to: '3.5.9', fixedIn: '3.5.10', atRisk: ['restore'],
    problem: "restores a snapshot without bumping the revision or marking it compacted (etcd-gen passes --bump-revision and --mark-compacted from 3.5.10; etcdctl 3.4.27 has the flags, etcd-gen does not use them on 3.4): kube-apiserver's watchers and informers can miss every change made after the snapshot, and must be restarted",
    source: `${CL(5, 10, 16165, 'Add optional --bump-revision and --mark-compacted flag to etcdutl snapshot restore operation')}; https://etcd.io/docs/v3.5/op-guide/recovery/ (restoring with a revision bump for Kubernetes)`,
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

/**
 * The known issues that affect a release, in KNOWN_ISSUES' order. With KUBERNETES (kubernetes.version,
 * "1.37"), also those that apply from that Kubernetes minor; without, only those of no Kubernetes.
 */
export function issuesOf(r: ReleaseNumber, kubernetes?: string): KnownIssue[] {
  const minorOf = (k: string): number => Number(k.split('.')[1] ?? NaN);
  return KNOWN_ISSUES.filter((i) => {
    if (i.kubernetesFrom !== undefined && (kubernetes === undefined || minorOf(kubernetes) < minorOf(i.kubernetesFrom))) return false;
    const from = parseRelease(i.from);
    const to = parseRelease(i.to);
    return from !== null && to !== null && compareReleases(r, from) >= 0 && compareReleases(r, to) <= 0;
  });
}

/** One runbook action at risk on a release: the known issues that put it there and the release to move to. */
export interface ReleaseRisk {
  action: RunbookAction;
  /** The newest fixedIn among those issues: at or above it, none of them applies. */
  moveTo: string;
  /** The issues' ids, as docs/releases.md lists them. */
  issues: string[];
}

/**
 * The runbook actions at risk on release R under Kubernetes K (kubernetes.version), in RUNBOOK_ACTIONS'
 * order, each with the release to move to (the newest fix among its issues). runbooks/cluster.sh carries
 * them as RELEASE_RISKS (an enum) and RELEASE_RISK_MOVE_TO and RELEASE_RISK_ISSUES by action.
 */
export function releaseRisks(r: ReleaseNumber, kubernetes?: string): ReleaseRisk[] {
  const issues = issuesOf(r, kubernetes);
  const risks: ReleaseRisk[] = [];
  for (const action of RUNBOOK_ACTIONS) {
    const at = issues.filter((i) => i.atRisk.includes(action));
    if (at.length === 0) continue;
    const fixes = at.map((i) => i.fixedIn).sort((a, b) => compareReleases(parseRelease(a) ?? { minor: 0, patch: 0 }, parseRelease(b) ?? { minor: 0, patch: 0 }));
    risks.push({ action, moveTo: fixes[fixes.length - 1] ?? '', issues: at.map((i) => i.id) });
  }
  return risks;
}
