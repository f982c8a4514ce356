/**
 * `etcd-gen plan <config> -o <out>`: the safe, ordered steps from the membership and etcd release of the
 * previous build (its manifest) to those of cluster.yaml. Exit 1 when there are steps to carry out.
 */
import path from 'node:path';
import { InputError } from '../diagnostics.js';
import { compareIdentity } from '../model/identity.js';
import { formatPlan, planMembership } from '../model/membership.js';
import { readPreviousBuild } from '../output/previous.js';
import { displayFile, identityDiagnostics, loadModel } from '../pipeline.js';
import { EXIT_ATTENTION, EXIT_OK, type Console } from './console.js';

export interface PlanArgs {
  config: string;
  out: string;
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
  if (con.json) con.printJson({ ok: true, cluster: model.name, membershipSteps: plan.steps, rolloutSteps: identity.steps, releaseSteps: identity.releaseSteps, warnings: plan.warnings });
  else con.out(formatPlan(plan, model.name, identity.steps));
  return plan.steps.length > 0 || identity.steps.length > 0 ? EXIT_ATTENTION : EXIT_OK;
}
