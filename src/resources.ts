/** Files etcd-gen ships beside its code: the JSON Schema, the templates and etcd's flag tables. */
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

/** Every file under templates/ (templates: `.hbs`; plain files, shipped as they are: any other), keyed by its path relative to that directory. */
export function readTemplates(): Map<string, string> {
  const dir = path.join(packageRoot, 'templates');
  const templates = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    templates.set(path.relative(dir, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
  }
  return templates;
}

const flagTables = new Map<number, ReadonlyMap<string, number>>();

/**
 * The server flags of etcd line 3.MINOR, each with the first patch release that has it, from
 * data/etcd-flags/3.MINOR.txt (one "flag first-patch" per line; the file's header says how it was made and
 * test/etcd-flags.test.ts and test/etcd-matrix.test.ts hold it against each release's `etcd --help`).
 */
export function etcdFlagTable(minor: number): ReadonlyMap<string, number> {
  let table = flagTables.get(minor);
  if (!table) {
    const flags = new Map<string, number>();
    for (const row of readFileSync(path.join(packageRoot, 'data', 'etcd-flags', `3.${minor}.txt`), 'utf8').split('\n')) {
      const [flag, since] = row.split(' ');
      if (flag && since && !flag.startsWith('#')) flags.set(flag, Number(since));
    }
    table = flags;
    flagTables.set(minor, table);
  }
  return table;
}

/**
 * How etcd parses a flag's value: the Go flag type it registers the flag with. `bool` is read by
 * strconv.ParseBool, `int` by strconv.ParseInt (base 0, 64 bits), `uint` by strconv.ParseUint (base 0,
 * 64 bits), `duration` by time.ParseDuration, `float` by strconv.ParseFloat (64 bits); `string` is every
 * other flag (strings, lists, URLs, enums, etcd's own flag.Value types), whose value is not checked.
 */
export type EtcdFlagKind = 'bool' | 'int' | 'uint' | 'duration' | 'float' | 'string';
export const ETCD_FLAG_KINDS: readonly EtcdFlagKind[] = ['bool', 'int', 'uint', 'duration', 'float', 'string'];
