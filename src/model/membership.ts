/**
 * `etcd-gen plan`: the ordered, safe steps from the membership the existing output was built for to the
 * one cluster.yaml now describes. Pure. Members are added one at a time as learners (they do not count
 * toward quorum until promoted), moved one at a time, and removed last, one at a time.
 */
import { quorumOf, type ClusterModel, type MemberEndpoints } from './types.js';

export type PlanAction = 'add' | 'move' | 'remove';

export interface PlanStep {
  action: PlanAction;
  member: string;
  /** The runbook that carries the step out, relative to the output directory. */
  runbook: string;
  detail: string;
  /** Members and quorum once the step is done. */
  membersAfter: number;
  quorumAfter: number;
}

export interface MembershipPlan {
  from: number;
  to: number;
  steps: PlanStep[];
  warnings: string[];
}


export function planMembership(previous: readonly MemberEndpoints[], model: ClusterModel): MembershipPlan {
  const before = new Map(previous.map((m) => [m.name, m]));
  const after = new Map(model.members.map((m) => [m.name, m]));
  const steps: PlanStep[] = [];
  let count = previous.length;
  for (const m of model.members) {
    if (before.has(m.name)) continue;
    count += 1;
    steps.push({
      action: 'add',
      member: m.name,
      runbook: `runbooks/add-member.sh ${m.name}`,
      detail: `add ${m.name} (${m.peerUrl}) as a learner, start it with initial-cluster-state=existing, promote it once it has caught up`,
      membersAfter: count,
      quorumAfter: quorumOf(count),
    });
  }
  for (const m of model.members) {
    const old = before.get(m.name);
    if (!old || old.peerUrl === m.peerUrl) continue;
    steps.push({
      action: 'move',
      member: m.name,
      runbook: `runbooks/replace-member.sh ${m.name}`,
      detail: `move ${m.name} from ${old.peerUrl} to ${m.peerUrl}: remove it, add it back at the new address, start it there with an empty data dir`,
      membersAfter: count,
      quorumAfter: quorumOf(count),
    });
  }
  for (const m of previous) {
    if (after.has(m.name)) continue;
    count -= 1;
    steps.push({
      action: 'remove',
      member: m.name,
      runbook: `runbooks/remove-member.sh ${m.name}`,
      detail: `remove ${m.name} (${m.peerUrl}) from the cluster, then stop it and wipe its data dir`,
      membersAfter: count,
      quorumAfter: quorumOf(count),
    });
  }
  const warnings: string[] = [];
  const final = model.members.length;
  if (final % 2 === 0) warnings.push(`${final} members tolerate no more failures than ${final - 1}: use an odd number`);
  if (steps.some((s) => s.action === 'move') && previous.length < 3) {
    warnings.push('moving a member of a cluster with fewer than 3 members stops writes while it is away');
  }
  return { from: previous.length, to: final, steps, warnings };
}

/**
 * The steps for people: the membership plan, then `rollout` (changes of the cluster's identity that are
 * rolled out, src/model/identity.ts, and members whose settings changed), each after the one before.
 */
export function formatPlan(plan: MembershipPlan, cluster: string, rollout: readonly string[] = []): string {
  const rolloutLines = rollout.length === 0 ? [] : ['then, one step at a time, each only when runbooks/health.sh passes:', ...rollout.map((r) => `  - ${r}`)];
  if (plan.steps.length === 0) {
    if (rollout.length === 0) return `cluster ${cluster}: membership unchanged (${plan.to} members); nothing to do\n`;
    return `${[`cluster ${cluster}: membership unchanged (${plan.to} members); ${rolloutLines[0]}`, ...rolloutLines.slice(1)].join('\n')}\n`;
  }
  const lines = [`cluster ${cluster}: ${plan.from} -> ${plan.to} members, ${plan.steps.length} step(s), one at a time, each only when runbooks/health.sh passes:`];
  lines.push('  0. etcd-gen build (writes the configs and certificates the steps deploy)');
  plan.steps.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${s.runbook}`);
    lines.push(`     ${s.detail}; then ${s.membersAfter} members, quorum ${s.quorumAfter}`);
  });
  // Clients learn the new endpoints last: a member added as a learner refuses their requests until promoted.
  lines.push(`  ${plan.steps.length + 1}. install kubernetes/ on the control-plane nodes (kube-apiserver's etcd endpoints), now that every step is done; kube-apiserver reads its etcd endpoints at start: restart it there, one node at a time`);
  lines.push(...rolloutLines);
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}
