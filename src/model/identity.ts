/**
 * The identity of a deployed cluster: the settings a member checks of its peers, or that its peers and
 * clients must agree on, whose old and new forms cannot talk to each other while the members are updated
 * one at a time. manifest.json records them (what the deployed cluster is); a build and `plan` compare
 * cluster.yaml with that record, and refuse a change that would cost quorum during a rolling install.
 * Pure: the previous build's identity comes in as data (src/output/previous.ts reads it).
 *
 * What is refused, and why (each message says what to do instead):
 * - the peer certificates' CN (tls.peerCommonName, else derived from `name`): etcd 3.4 and 3.5 take one
 *   CN in --peer-cert-allowed-cn (transport.TLSInfo.AllowedCN, a string), read at start, and check it in
 *   the TLS handshake of every peer connection. A member given certificates with a new CN is refused by
 *   every member still running with the old one ("tls: bad certificate"), so there is no order of
 *   rolling steps that keeps both accepted: keep the CN, pinned in tls.peerCommonName.
 * - the initial cluster token (`token`, else derived from `name`): etcd reads --initial-cluster-token only
 *   when the cluster is first created (empty data dir, initial-cluster-state=new), to derive the cluster
 *   ID; a running cluster, and a member joining it, ignore it. A changed token changes nothing in the
 *   cluster, only makes etcd.conf misstate it: keep it, pinned in `token`.
 * - the client and peer ports: every member's URLs would move at once, and members not yet updated would
 *   dial the old ones. Members move one at a time only (plan's move step, replace-member.sh).
 * - an etcd release move that is not one step of src/etcd/upgrade.ts (a skipped minor, a minor step from below
 *   the documented minimum, a minor downgrade without etcd's downgrade API): the message names the path.
 * - a TLS policy with no cipher suite in common with the deployed one.
 * What is rolled instead, as steps: an etcd upgrade the rules allow, and a TLS policy change that keeps a
 * common suite (runbooks/rotate-certs.sh restarts each member in turn, since etcd reads it at start).
 * The CA changes only through --rotate-ca's three builds; a member's own URLs only through plan's steps.
 */
import type { ClusterConfig } from '../input/config.js';
import { messages } from '../messages.js';
import { olderPatchNote, planRelease, releaseRefusal, releaseStep, type ReleaseStep } from '../etcd/upgrade.js';
import type { ClusterModel } from './types.js';

export interface ClusterIdentity {
  /** --initial-cluster-token. */
  token: string;
  /** The CN every peer certificate carries and every member requires of its peers (--peer-cert-allowed-cn). */
  peerCommonName: string;
  ports: { client: number; peer: number };
  /** The etcd release the members run, e.g. `3.5.16`. */
  etcdVersion: string;
  /** What every member requires of a TLS connection: --tls-min-version (null: the release's default, TLS 1.2) and --cipher-suites. */
  tls: { minVersion: string | null; cipherSuites: string[] };
}

/** What is known of a deployed cluster's identity: everything from a manifest with `identity`, less from an older one. */
export type KnownIdentity = { [K in keyof ClusterIdentity]: ClusterIdentity[K] | null };

/** The identity a build of `model` deploys. */
export function clusterIdentity(model: ClusterModel): ClusterIdentity {
  const setting = (flag: string): string | null => model.members[0]?.settings.find((s) => s.flag === flag)?.value ?? null;
  return {
    token: model.token,
    peerCommonName: model.security.peerCommonName,
    ports: { client: model.ports.client, peer: model.ports.peer },
    etcdVersion: model.etcd.text,
    tls: { minVersion: setting('tls-min-version'), cipherSuites: (setting('cipher-suites') ?? '').split(',').filter(Boolean) },
  };
}


/** A change cluster.yaml asks for that a build refuses: where in the file, and why with what to do. */
export interface IdentityProblem {
  /** JSON pointer of the field to change back (or pin). */
  pointer: string;
  message: string;
}

export interface IdentityComparison {
  problems: IdentityProblem[];
  /** Changes that are rolled out, in order, as steps for people. */
  steps: string[];
  /** The etcd release move among them, as data (src/etcd/upgrade.ts): one step, or none. */
  releaseSteps: ReleaseStep[];
}

/**
 * Compares the identity `model` would deploy with the one the cluster has. `config` says which fields the
 * user set (a refused change points at the field that pins it, or at the one it is derived from).
 * `wholePath` (plan): an etcd release more than one step away gives the steps of the path instead of a refusal.
 */
export function compareIdentity(previous: KnownIdentity, model: ClusterModel, config: ClusterConfig, options: { wholePath?: boolean } = {}): IdentityComparison {
  const next = clusterIdentity(model);
  const problems: IdentityProblem[] = [];
  const steps: string[] = [];
  const releaseSteps: ReleaseStep[] = [];
  if (previous.peerCommonName !== null && previous.peerCommonName !== next.peerCommonName) {
    problems.push({
      pointer: config.tls?.peerCommonName !== undefined ? '/tls/peerCommonName' : '/name',
      message: messages.peerCommonNameChanged(previous.peerCommonName, next.peerCommonName),
    });
  }
  if (previous.token !== null && previous.token !== next.token) {
    problems.push({ pointer: config.token !== undefined ? '/token' : '/name', message: messages.tokenChanged(previous.token, next.token) });
  }
  if (previous.ports !== null) {
    for (const kind of ['peer', 'client'] as const) {
      const before = previous.ports[kind];
      const after = next.ports[kind];
      if (before === after) continue;
      problems.push({ pointer: config.ports?.[kind] !== undefined ? `/ports/${kind}` : '/ports', message: messages.portChanged(kind, before, after) });
    }
  }
  if (previous.etcdVersion !== null && previous.etcdVersion !== next.etcdVersion) {
    const refusal = releaseRefusal(previous.etcdVersion, next.etcdVersion);
    const path = messages.etcdReleasePath(refusal?.path ?? []);
    // plan lists the whole path; a build carries out one step only.
    const moves = refusal === null ? [releaseStep(previous.etcdVersion, next.etcdVersion)] : options.wholePath && refusal.path.length > 0 ? refusal.path : null;
    if (moves !== null) {
      for (const step of moves) {
        const build = moves.length > 1 ? `set etcd.version: "${step.to}" and build, then ` : '';
        steps.push(messages.etcdReleaseStep(`${step.detail}: ${build}runbooks/upgrade.sh`, olderPatchNote(step.from, step.to)));
        releaseSteps.push(step);
      }
      steps.push(...planRelease(previous.etcdVersion, next.etcdVersion).notes.map((n) => `check: ${n}`));
    } else if (refusal?.kind === 'skip') problems.push({ pointer: '/etcd/version', message: messages.etcdMinorSkipped(previous.etcdVersion, next.etcdVersion, path) });
    else if (refusal?.kind === 'below-minimum' && refusal.minimum) {
      const m = refusal.minimum;
      problems.push({ pointer: '/etcd/version', message: messages.etcdBelowMinimum(previous.etcdVersion, next.etcdVersion, m.minimum, m.why, m.source, path) });
    } else problems.push({ pointer: '/etcd/version', message: messages.etcdNoDowngradeApi(previous.etcdVersion, next.etcdVersion) });
  }
  if (previous.tls !== null) {
    const before = previous.tls;
    const common = next.tls.cipherSuites.filter((s) => before.cipherSuites.includes(s));
    const changed = before.minVersion !== next.tls.minVersion || before.cipherSuites.join(',') !== next.tls.cipherSuites.join(',');
    if (changed && common.length === 0 && before.cipherSuites.length > 0 && next.tls.cipherSuites.length > 0) {
      problems.push({ pointer: '/etcd/version', message: messages.tlsNoCommonSuite(before.cipherSuites, next.tls.cipherSuites) });
    } else if (changed) {
      steps.push(messages.tlsPolicyStep(before.minVersion, next.tls.minVersion));
    }
  }
  return { problems, steps, releaseSteps };
}
