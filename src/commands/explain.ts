/** `etcd-gen explain [field]` and `etcd-gen schema`: cluster.yaml's fields, from its JSON Schema. */
import { UsageError } from '../diagnostics.js';
import { fieldAndBelow, fieldDocs, findField, formatField } from '../input/explain.js';
import { closest } from '../messages.js';
import { clusterSchema } from '../resources.js';
import { EXIT_OK, type Console } from './console.js';

export interface ExplainArgs {
  field: string | undefined;
}

export function runExplain(args: ExplainArgs, con: Console): number {
  const docs = fieldDocs(clusterSchema());
  if (args.field === undefined) {
    if (con.json) con.printJson(docs);
    else con.out(`${docs.map(formatField).join('\n\n')}\n`);
    return EXIT_OK;
  }
  const doc = findField(docs, args.field);
  if (!doc) {
    const guess = closest(args.field, docs.map((d) => d.path));
    throw new UsageError(`no field "${args.field}" in cluster.yaml${guess ? `: did you mean ${guess}?` : ''} (etcd-gen explain lists every field)`);
  }
  const [, ...below] = fieldAndBelow(docs, doc);
  if (con.json) con.printJson(below.length > 0 ? { ...doc, fields: below } : doc);
  else con.out(`${[doc, ...below].map(formatField).join('\n\n')}\n`);
  return EXIT_OK;
}

/** The JSON Schema of cluster.yaml, for editors and CI. */
export function runSchema(con: Console): number {
  con.printJson(clusterSchema());
  return EXIT_OK;
}
