/**
 * `etcd-gen explain [FIELD]`: every cluster.yaml field with its type, default and meaning, read from the
 * JSON Schema itself, so the documentation cannot drift from what is validated. Pure.
 */
export interface FieldDoc {
  /** Dotted path; list items as `[]`, e.g. `nodes[].host`. */
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
  allowed?: unknown[];
}

interface SchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
}

export function fieldDocs(schema: SchemaNode): FieldDoc[] {
  const docs: FieldDoc[] = [];
  const walk = (node: SchemaNode, prefix: string, required: boolean): void => {
    const type = node.enum ? 'enum' : node.type === 'array' ? `list of ${node.items?.type === 'object' ? 'mappings' : `${node.items?.type ?? 'values'}s`}` : node.type === 'object' ? 'mapping' : (node.type ?? 'value');
    const range = node.minimum !== undefined && node.maximum !== undefined ? ` (${node.minimum} to ${node.maximum})` : '';
    if (prefix) {
      docs.push({
        path: prefix,
        type: type + range,
        required,
        ...(node.default !== undefined ? { default: node.default } : {}),
        description: node.description ?? '',
        ...(node.enum ? { allowed: node.enum } : {}),
      });
    }
    const children = node.properties ?? (node.items?.properties ? node.items.properties : undefined);
    const childRequired = node.required ?? node.items?.required ?? [];
    const base = node.items?.properties ? `${prefix}[]` : prefix;
    for (const [key, child] of Object.entries(children ?? {})) walk(child, base ? `${base}.${key}` : key, childRequired.includes(key));
  };
  walk(schema, '', true);
  return docs;
}

/** Finds a field by path; `nodes.host` and `nodes[].host` both name the same field. */
export function findField(docs: readonly FieldDoc[], query: string): FieldDoc | undefined {
  const norm = (p: string) => p.replace(/\[\]/g, '').toLowerCase();
  return docs.find((d) => norm(d.path) === norm(query));
}

/** A field and, for a mapping or a list of mappings, every field below it (`etcd.tuning` lists its five). */
export function fieldAndBelow(docs: readonly FieldDoc[], field: FieldDoc): FieldDoc[] {
  return [field, ...docs.filter((d) => d.path.startsWith(`${field.path}.`) || d.path.startsWith(`${field.path}[].`))];
}

export function formatField(d: FieldDoc): string {
  const lines = [`${d.path}  (${d.type}${d.required ? ', required' : ''})`];
  if (d.description) lines.push(`  ${d.description}`);
  if (d.allowed) lines.push(`  one of: ${d.allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  if (d.default !== undefined) lines.push(`  default: ${JSON.stringify(d.default)}`);
  return lines.join('\n');
}
