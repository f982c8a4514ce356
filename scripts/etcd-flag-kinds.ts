/**
 * data/etcd-flags/3.MINOR-kinds.txt: how etcd parses each of its server flags' values, read from etcd's own
 * flag registration code (`fs.UintVar(&cfg.MaxTxnOps, "max-txn-ops", ...)` is a uint) in the Go module
 * cache, go.etcd.io/etcd/server/v3 at the newest patch of each line (src/etcd/releases.ts). validate.ts
 * refuses an etcd.extraFlags value etcd would not parse (src/etcd/flag-values.ts).
 * `npm run etcd:flag-kinds` writes the files; test/etcd-flag-kinds.test.ts fails when they are not what
 * this script gives. A missing module: `go mod download go.etcd.io/etcd/server/v3@v3.X.Y`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELEASE_LINES } from '../src/etcd/releases.js';
import { ETCD_FLAG_KINDS, etcdFlagTable, packageRoot, type EtcdFlagKind } from '../src/resources.js';

/** The files of go.etcd.io/etcd/server/v3 that register the server's flags (3.5: etcdmain only). */
export const REGISTRATION_FILES = ['embed/config.go', 'etcdmain/config.go'] as const;

/** The first line with a go.etcd.io/etcd/server/v3 module; 3.4 is the older single go.etcd.io/etcd module. */
export const FIRST_MODULE_MINOR = 5;

/**
 * The flag.FlagSet methods that define a flag, and the kind of value each parses (Go's src/flag/flag.go):
 * the typed ones by strconv or time; String, Var, Func, BoolFunc and TextVar take any string or hand it
 * to a flag.Value of etcd's own (URL lists, enums, uint32), so they are `string`: not checked.
 */
const DEFINERS: Readonly<Record<string, EtcdFlagKind>> = {
  Bool: 'bool',
  BoolVar: 'bool',
  Int: 'int',
  IntVar: 'int',
  Int64: 'int',
  Int64Var: 'int',
  Uint: 'uint',
  UintVar: 'uint',
  Uint64: 'uint',
  Uint64Var: 'uint',
  Duration: 'duration',
  DurationVar: 'duration',
  Float64: 'float',
  Float64Var: 'float',
  String: 'string',
  StringVar: 'string',
  Var: 'string',
  Func: 'string',
  BoolFunc: 'string',
  TextVar: 'string',
};

/** One flag definition found in Go source. */
export interface FlagRegistration {
  flag: string;
  /** The FlagSet method, e.g. `UintVar`. */
  method: string;
  kind: EtcdFlagKind;
}

/**
 * Every flag definition in GO_SOURCE whose name is a string literal: calls `fs.<Method>(...)` (etcd's name
 * for its FlagSet, in 3.5, 3.6 and 3.7) of a method in DEFINERS, the name being the second argument of
 * the *Var methods and the first of the others.
 * Comments are skipped. A name that is not a literal (etcd's loop over the legacy names it ignores, a
 * constant) is left out, and so is a flag registered otherwise (the feature gates' AddFlag): they are
 * `string` in the kinds file.
 */
export function flagRegistrations(goSource: string): FlagRegistration[] {
  const code = withoutComments(goSource);
  const found: FlagRegistration[] = [];
  for (const call of code.matchAll(/\bfs\.([A-Z][A-Za-z0-9]*)\(/g)) {
    const method = call[1] ?? '';
    const kind = DEFINERS[method];
    if (kind === undefined) continue;
    const args = callArguments(code, (call.index ?? 0) + call[0].length);
    const name = /^"([a-z0-9][a-z0-9.-]*)"$/.exec(args[method.endsWith('Var') ? 1 : 0] ?? '')?.[1];
    if (name !== undefined) found.push({ flag: name, method, kind });
  }
  return found;
}

/** Go source with every comment blanked (newlines kept), string, raw string and rune literals untouched. */
function withoutComments(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; ) {
    const c = src[i] ?? '';
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      const end = src.indexOf('\n', i);
      i = end === -1 ? src.length : end;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      const stop = literalEnd(src, i);
      out += src.slice(i, stop);
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The index just past the string, raw string or rune literal that starts at START. */
function literalEnd(src: string, start: number): number {
  const quote = src[start];
  for (let i = start + 1; i < src.length; i++) {
    if (quote !== '`' && src[i] === '\\') i++;
    else if (src[i] === quote) return i + 1;
  }
  return src.length;
}

/** The arguments of the call whose '(' ends just before OPEN, each trimmed, split at the top-level commas. */
function callArguments(code: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = open; i < code.length; ) {
    const c = code[i] ?? '';
    if (c === '"' || c === "'" || c === '`') {
      const stop = literalEnd(code, i);
      current += code.slice(i, stop);
      i = stop;
      continue;
    }
    if (depth === 0 && (c === ',' || c === ')')) {
      args.push(current.trim());
      current = '';
      if (c === ')') break;
    } else {
      if ('([{'.includes(c)) depth++;
      if (')]}'.includes(c)) depth--;
      current += c;
    }
    i++;
  }
  return args;
}

/**
 * The Go module cache as the go command finds it: $GOMODCACHE, else the first entry of $GOPATH plus
 * /pkg/mod, else ~/go/pkg/mod.
 */
export function goModuleCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GOMODCACHE) return env.GOMODCACHE;
  const gopath = env.GOPATH?.split(path.delimiter).find((p) => p !== '');
  return path.join(gopath ?? path.join(os.homedir(), 'go'), 'pkg', 'mod');
}

/** The directory of go.etcd.io/etcd/server/v3 at VERSION (`3.6.16`) in the module cache. */
export function serverModuleDir(version: string, cache = goModuleCache()): string {
  return path.join(cache, 'go.etcd.io', 'etcd', 'server', `v3@v${version}`);
}

/** The release whose registration code a line's kinds come from: its newest patch, as its flag table. */
export function kindsRelease(minor: number): string {
  const line = RELEASE_LINES.find((l) => l.minor === minor);
  if (!line) throw new Error(`etcd-gen knows no release line 3.${minor}`);
  return `3.${minor}.${line.newestPatch}`;
}

export function kindsFile(minor: number): string {
  return path.join(packageRoot, 'data', 'etcd-flags', `3.${minor}-kinds.txt`);
}

/**
 * What was found when this script was written, comparing the registration code of every tag of etcd's
 * repository (v3.5.0 to v3.5.33, v3.6.0 to v3.6.14, v3.7.0 and v3.7.1): no flag changed type within a line
 * but three list flags of 3.5 (StringVar to Var at v3.5.15, both string).
 */
const TAGS_COMPARED: Readonly<Record<number, readonly string[]>> = {
  5: ['Every v3.5 tag to v3.5.33 in etcd\'s git repository does (compared when the script was written), but for three list', 'flags: StringVar before v3.5.15, Var since, both string.'],
  6: ['Every v3.6 tag to v3.6.14 in etcd\'s git repository does (compared when the script was written).'],
  7: ['v3.7.0 and v3.7.1 in etcd\'s git repository do (compared when the script was written).'],
};

/**
 * The text of data/etcd-flags/3.MINOR-kinds.txt: a header, then "flag kind" for every flag of
 * data/etcd-flags/3.MINOR.txt, in its order. READ gives a registration file's text by its path in the
 * module, or null when the module is not there. Throws when the module is missing (with how to get it),
 * or when its code registers a flag the table does not have (extend the table first).
 */
export function flagKindsText(minor: number, read: (file: string) => string | null = readFromCache(minor)): string {
  if (minor < FIRST_MODULE_MINOR) {
    return header([
      `etcd 3.${minor} server flags: no kinds. etcd 3.${minor} predates the go.etcd.io/etcd/server/v3 module, so there is no flag`,
      'registration code in the Go module cache for scripts/etcd-flag-kinds.ts (npm run etcd:flag-kinds) to read: every',
      `etcd.extraFlags value of a 3.${minor} cluster goes to etcd unchecked (a value etcd cannot parse stops it at start).`,
    ]);
  }
  const release = kindsRelease(minor);
  const module = `go.etcd.io/etcd/server/v3@v${release}`;
  const sources = REGISTRATION_FILES.map((file) => ({ file, text: read(file) }));
  if (sources.some((s) => s.text === null)) {
    throw new Error(`${module} is not in the Go module cache (${goModuleCache()}): \`go mod download ${module}\` fetches it (npm run etcd:fetch does, building the test matrix's go rows)`);
  }
  const table = etcdFlagTable(minor);
  const registered = new Map<string, Set<EtcdFlagKind>>();
  for (const { text } of sources) {
    for (const r of flagRegistrations(text ?? '')) {
      if (!table.has(r.flag)) throw new Error(`${module} registers --${r.flag} (${r.method}), which data/etcd-flags/3.${minor}.txt does not list: extend the table first`);
      registered.set(r.flag, (registered.get(r.flag) ?? new Set()).add(r.kind));
    }
  }
  if (registered.size < table.size / 2) {
    throw new Error(`${module} registers ${registered.size} of the ${table.size} flags of data/etcd-flags/3.${minor}.txt by name: has its registration code changed shape?`);
  }
  // A flag defined twice with two kinds is left unchecked: no refusal rests on a guess.
  const kindOf = (flag: string): EtcdFlagKind => {
    const kinds = [...(registered.get(flag) ?? [])];
    return kinds.length === 1 && kinds[0] ? kinds[0] : 'string';
  };
  const rows = [...table.keys()].map((flag) => `${flag} ${kindOf(flag)}`);
  const counts = ETCD_FLAG_KINDS.map((k) => `${k} ${rows.filter((r) => r.endsWith(` ${k}`)).length}`).join(', ');
  const unregistered = [...table.keys()].filter((flag) => !registered.has(flag));
  const twice = [...registered].filter(([, kinds]) => kinds.size > 1).map(([flag]) => flag);
  return header(
    [
      `etcd 3.${minor} server flags: "flag kind", how etcd parses the value of each flag of 3.${minor}.txt: by the Go flag type it registers`,
      'the flag with. bool: strconv.ParseBool; int: strconv.ParseInt (base 0, 64 bits); uint: strconv.ParseUint (base 0, 64 bits);',
      'duration: time.ParseDuration; float: strconv.ParseFloat (64 bits); string: any other (strings, lists, URLs, etcd\'s own',
      `flag.Value types), not checked. Here: ${counts}.`,
      `Generated by scripts/etcd-flag-kinds.ts (npm run etcd:flag-kinds) from ${module}`,
      `(${REGISTRATION_FILES.join(', ')}) in the Go module cache: do not edit. test/etcd-flag-kinds.test.ts fails when it is not`,
      'what the script gives.',
      `Earlier 3.${minor} patches are taken to register each flag with the same type.`,
      ...(TAGS_COMPARED[minor] ?? []),
      `Not registered by name in ${release}'s code (string): ${unregistered.length > 0 ? unregistered.join(', ') : 'none'}.` +
        (twice.length > 0 ? ` Registered with two types (string): ${twice.join(', ')}.` : ''),
    ],
    rows,
  );
}

/** A kinds file: its header lines as comments, then its rows. */
function header(comments: readonly string[], rows: readonly string[] = []): string {
  return [...comments.map((c) => `# ${c}`), ...rows, ''].join('\n');
}

function readFromCache(minor: number): (file: string) => string | null {
  return (file) => {
    const full = path.join(serverModuleDir(kindsRelease(minor)), file);
    return existsSync(full) ? readFileSync(full, 'utf8') : null;
  };
}

/** The release lines a kinds file is written for: every line etcd-gen knows. */
export const KINDS_MINORS: readonly number[] = RELEASE_LINES.map((l) => l.minor);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const minor of KINDS_MINORS) {
    const text = flagKindsText(minor);
    writeFileSync(kindsFile(minor), text);
    process.stdout.write(`wrote ${kindsFile(minor)}: ${text.split('\n').filter((r) => r !== '' && !r.startsWith('#')).length} flags\n`);
  }
}
