#!/usr/bin/env node
/**
 * The stamp of the sources dist/ was built from, so that `prepare` builds only when they changed: npm ci,
 * npx (which runs `prepare` again for the linked package) and npm pack then each build once.
 *
 *   node scripts/build-stamp.mjs write   after a build: writes dist/.sources-sha256
 *   node scripts/build-stamp.mjs check   exit 0 when dist/ has the stamp of the sources as they are now
 *
 * The stamp is the SHA-256 of every file's path and contents below src, templates, scripts, schema, data,
 * test and bench, and of tsconfig.json, package.json and package-lock.json (the compiler's version).
 * Plain JavaScript: it runs before there is a dist/.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const DIRS = ['src', 'templates', 'scripts', 'schema', 'data', 'test', 'bench'];
const FILES = ['tsconfig.json', 'package.json', 'package-lock.json'];
const stampFile = path.join(root, 'dist', '.sources-sha256');

function files(rel) {
  if (!existsSync(path.join(root, rel))) return [];
  return readdirSync(path.join(root, rel), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? files(`${rel}/${e.name}`) : e.isFile() ? [`${rel}/${e.name}`] : []));
}

/** The hex SHA-256 of the sources: each file as its path, a NUL, its length, a NUL and its bytes. */
export function sourcesStamp() {
  const hash = createHash('sha256');
  for (const rel of [...DIRS.flatMap((d) => files(d)), ...FILES.filter((f) => existsSync(path.join(root, f)))]) {
    const bytes = readFileSync(path.join(root, rel));
    hash.update(`${rel}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest('hex');
}

const mode = process.argv[2];
if (mode === 'write') {
  writeFileSync(stampFile, `${sourcesStamp()}\n`);
} else if (mode === 'check') {
  const have = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
  if (have === '' || have !== sourcesStamp()) process.exit(1);
  process.stderr.write('etcd-gen: dist/ was built from these sources (dist/.sources-sha256); not building again\n');
} else {
  process.stderr.write('usage: node scripts/build-stamp.mjs write|check\n');
  process.exit(64);
}
