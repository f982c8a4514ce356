/** Test helpers: run the built CLI as a user does, read output trees, and require external tools. */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { Readable } from 'node:stream';
import { run as runCommandLine } from '../src/commands/cli.js';
import { build, type BuildResult } from '../src/pipeline.js';

/** The repository root (tests run from dist/test/). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = path.join(repoRoot, 'dist', 'src', 'cli.js');
export const examplesDir = path.join(repoRoot, 'examples');
export const isCI = process.env.CI === 'true';

/**
 * Runs an etcd-gen command line in this process (src/commands/cli.ts run), with streams that collect what
 * it prints: the same code path as the executable, without a process per call. Paths in `args` should be
 * absolute, or `cwd` given in a file whose tests run one at a time. The executable itself: runCli.
 */
export async function runInProcess(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const stdin = Object.assign(Readable.from([]), { isTTY: false });
  // A working directory is this process's own: only for test files whose tests run one at a time.
  const cwd = process.cwd();
  if (options.cwd !== undefined) process.chdir(options.cwd);
  try {
    const status = await runCommandLine(args, {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      stdin,
      env: { ...process.env, ...options.env, CI: 'true' },
    });
    return { status, stdout, stderr };
  } finally {
    process.chdir(cwd);
  }
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function run(cmd: string, args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; timeout?: number; maxBuffer?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: options.timeout ?? 60_000, ...options, env: { ...process.env, ...options.env } });
}

/** Builds `source` as cluster.yaml in a fresh temporary directory, with the library (no CLI). */
export async function buildInto(t: TestContext, source: string, options: { fixedKeys?: boolean; now?: Date } = {}): Promise<{ out: string; result: BuildResult }> {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'cluster.yaml'), source);
  const out = path.join(dir, 'out');
  const secretsDir = path.join(dir, 'secrets');
  if (options.fixedKeys) cpSync(await fixedSecrets(source, options.now), secretsDir, { recursive: true });
  const result = await build({ configFile: path.join(dir, 'cluster.yaml'), outDir: out, secretsDir, ...(options.now ? { now: options.now } : {}) });
  return { out, result };
}

/**
 * The secrets directory of a cluster.yaml text, made once per machine and text (in the temporary
 * directory) and copied into each test that asks for fixed keys: a test that checks what certificates
 * contain needs keys, not fresh ones, and RSA keys take seconds to generate. Issued at `now`.
 */
export async function fixedSecrets(source: string, now?: Date): Promise<string> {
  const key = createHash('sha256').update(`${now?.toISOString() ?? ''}\n${source}`).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'etcd-gen-test-keys', key);
  if (existsSync(dir)) return dir;
  const work = `${dir}.${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(path.join(work, 'cluster.yaml'), source);
  await build({ configFile: path.join(work, 'cluster.yaml'), outDir: path.join(work, 'out'), secretsDir: path.join(work, 'secrets'), ...(now ? { now } : {}) });
  try {
    renameSync(path.join(work, 'secrets'), dir);
  } catch (err) {
    if (!existsSync(dir)) throw err; // another test process made it first
  }
  rmSync(work, { recursive: true, force: true });
  return dir;
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'etcd-gen-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  // ETCD_GEN_KEEP_TEST_DIRS=1 keeps them, to look at a failed run's data dirs and logs (docs/CONTRIBUTING.md).
  if (process.env.ETCD_GEN_KEEP_TEST_DIRS !== '1') t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TreeFile {
  contents: string;
  mode: number;
}

/** Every file below dir, by '/'-separated relative path. */
export function readTree(dir: string): Map<string, TreeFile> {
  const tree = new Map<string, TreeFile>();
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else tree.set(child, { contents: readFileSync(path.join(dir, child), 'utf8'), mode: statSync(path.join(dir, child)).mode & 0o777 });
    }
  };
  walk('');
  return new Map([...tree].sort(([a], [b]) => (a < b ? -1 : 1)));
}

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

/**
 * True when every tool is on PATH. Otherwise: under CI=true the test fails (a missing tool is never a
 * silent pass); elsewhere the test is skipped, with a banner on stderr so nobody mistakes it for a pass.
 */
export function needTools(t: TestContext, tools: readonly string[], extra?: { root?: boolean }): boolean {
  const missing = tools.filter((tool) => !hasTool(tool));
  if (extra?.root && process.getuid?.() !== 0) missing.push('root (uid 0)');
  return needAll(t, missing, '.ci/run installs them');
}

/**
 * True when nothing is MISSING (tools, files, module sources: named for the banner). Otherwise, as
 * needTools: a failure under CI=true, elsewhere a skip with a banner on stderr saying HOW to get them.
 */
export function needAll(t: TestContext, missing: readonly string[], how: string): boolean {
  if (missing.length === 0) return true;
  const why = `needs ${missing.join(', ')}; ${how}`;
  if (isCI) assert.fail(`${t.name}: ${why}. Under CI a missing tool is a failure.`);
  process.stderr.write(`\n!!! SKIPPED "${t.name}": ${why}. This check did NOT run. !!!\n\n`);
  t.skip(why);
  return false;
}

/** A small valid cluster.yaml text, with overrides spliced in as YAML lines. */
export const minimalCluster = `name: test
etcd: { version: "3.5.13" }
nodes:
  - { name: etcd1, host: 10.0.0.11 }
  - { name: etcd2, host: 10.0.0.12 }
  - { name: etcd3, host: 10.0.0.13 }
`;
