/** Files etcd-gen ships beside its code: the JSON Schema and the templates. */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The package root: dist/src/resources.js is two levels below it. */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

let schemaCache: Record<string, unknown> | undefined;

export function clusterSchema(): Record<string, unknown> {
  schemaCache ??= JSON.parse(readFileSync(path.join(packageRoot, 'schema', 'cluster.schema.json'), 'utf8')) as Record<string, unknown>;
  return schemaCache;
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Every template under templates/, keyed by its path relative to that directory. */
export function readTemplates(): Map<string, string> {
  const dir = path.join(packageRoot, 'templates');
  const templates = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.hbs')) continue;
    const full = path.join(entry.parentPath, entry.name);
    templates.set(path.relative(dir, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
  }
  return templates;
}
