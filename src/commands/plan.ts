/**
 * `etcd-gen plan <config> -o <out>`: the safe, ordered steps from the membership and etcd release of the
 * previous build (its manifest) to those of cluster.yaml. Exit 1 when there are steps to carry out.
 */
import path from 'node:path';
import { InputError } from '../diagnostics.js';
import { compareIdentity } from '../model/identity.js';
import { formatPlan, planMembership } from '../model/membership.js';
import { observationFile, readObservation } from '../observe/state.js';
import type { Observation } from '../observe/types.js';
import { readPreviousBuild } from '../output/previous.js';
import { displayFile, identityDiagnostics, loadModel } from '../pipeline.js';
import { EXIT_ATTENTION, EXIT_OK, type Console } from './console.js';

export interface PlanArgs {
  config: string;
  out: string;
}

/** Which observation of the running cluster there is (state/observed.json, written by status) and how old, in whole minutes. */
function observationNote(file: string, o: Observation | null, now: Date): { file: string; observedAt: string; clusterId: string; ageMinutes: number } | null {
  if (o === null) return null;
  return { file, observedAt: o.observedAt, clusterId: o.clusterId, ageMinutes: Math.max(0, Math.floor((now.getTime() - Date.parse(o.observedAt)) / 60_000)) };
}

export async function runPlan(args: PlanArgs, con: Console): Promise<number> {
  const { model, config, doc, diagnostics } = await loadModel(args.config);
  con.printDiagnostics(diagnostics);
  const previous = await readPreviousBuild(args.out);
  if (!previous.manifest || !previous.identity) {
    con.say(`etcd-gen: ${displayFile(path.resolve(args.out))} holds no earlier build: nothing to compare; a new cluster starts with etcd-gen build`);
    return EXIT_OK;
  }
  // What the deployed cluster is, against cluster.yaml: a change a build would refuse is refused here too.
  const identity = compareIdentity(previous.identity, model, config, { wholePath: true });
  if (identity.problems.length > 0) throw new InputError(identityDiagnostics(identity.problems, doc));
  const plan = planMembership(previous.manifest.members ?? [], model);
  // The observation is reported, not yet planned from: the steps still come from out/ alone.
  const file = observationFile(args.config);
  const observation = observationNote(file, await readObservation(file), new Date());
  if (con.json) con.printJson({ ok: true, cluster: model.name, membershipSteps: plan.steps, rolloutSteps: identity.steps, releaseSteps: identity.releaseSteps, warnings: plan.warnings, observation });
  else con.out(formatPlan(plan, model.name, identity.steps));
  con.say(
    observation
      ? `etcd-gen: observation ${displayFile(file)} of cluster ${observation.clusterId}, taken ${observation.observedAt} (${observation.ageMinutes} min ago); the steps are planned from out/ alone`
      : `etcd-gen: no observation of the running cluster (${displayFile(file)}; etcd-gen status writes it); the steps are planned from out/ alone`,
  );
  return plan.steps.length > 0 || identity.steps.length > 0 ? EXIT_ATTENTION : EXIT_OK;
}
