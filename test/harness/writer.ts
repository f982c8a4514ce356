/**
 * A client that writes while a runbook runs, as kube-apiserver does: with a given client certificate,
 * through every endpoint (etcdctl's balancer over the list), one put after another (PREFIX1, PREFIX2, …),
 * each with a 5 s timeout, until stopped. `stop` resolves with one line per write: "ok i" or
 * "FAILED i: what etcdctl said"; `readBack` reads every acknowledged key back afterwards. It runs in a
 * network namespace (the cluster's or the bed's) and stops by itself when its directory is gone, so a
 * failed test cannot leave it writing. A test that runs something under writes checks them with
 * assertWrites: a minimum number of writes, none failed, every acknowledged one read back.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sleep, type LoopbackCluster } from './cluster.js';

export interface WriterOptions {
  netns: string;
  /** PATH and the like: the release's etcdctl first. */
  env: NodeJS.ProcessEnv;
  /** Comma-separated client URLs. */
  endpoints: string;
  cacert: string;
  cert: string;
  key: string;
  prefix: string;
  /** A directory of the test's: the stop file goes there, and the writer stops when it is gone. */
  dir: string;
}

export interface Writer {
  /** Stops the writer: one line per write, in order, "ok i" or "FAILED i: what etcdctl said". */
  stop(): Promise<string[]>;
  /** The keys of acknowledged writes ("ok i" lines) that a linearizable read of the prefix lacks. */
  readBack(lines: readonly string[]): string[];
}

export const failedWrites = (lines: readonly string[]): string[] => lines.filter((l) => !l.startsWith('ok'));

/** The indices of the acknowledged writes: the i of each "ok i" line, in order. */
export const acknowledgedWrites = (lines: readonly string[]): number[] =>
  lines.map((l) => /^ok (\d+)$/.exec(l)?.[1]).filter((n): n is string => n !== undefined).map(Number);

/**
 * Asserts what a client saw while something ran: at least `min` writes (a writer that never wrote proves
 * nothing), none of them failed, and every acknowledged one reads back afterwards. `what` names the run.
 */
export function assertWrites(writer: Writer, lines: readonly string[], min: number, what: string): void {
  assert.ok(lines.length >= min, `${what}: the writer kept writing (${lines.length} writes, at least ${min} expected)`);
  assert.deepEqual(failedWrites(lines), [], `${what}: no write failed`);
  assert.deepEqual(writer.readBack(lines), [], `${what}: every acknowledged write reads back`);
}

export async function startWriter(o: WriterOptions): Promise<Writer> {
  const stopFile = path.join(o.dir, `stop-writer-${o.prefix.replace(/\W/g, '_')}`);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const etcdctl = `etcdctl --endpoints=${q(o.endpoints)} --cacert=${q(o.cacert)} --cert=${q(o.cert)} --key=${q(o.key)}`;
  const loop = `i=0; while [ ! -e ${q(stopFile)} ] && [ -d ${q(o.dir)} ]; do i=$((i+1)); if err=$(${etcdctl} put ${q(o.prefix)}$i $i --command-timeout=5s 2>&1 >/dev/null); then echo "ok $i"; else echo "FAILED $i: $(tail -n 1 <<<"$err")"; fi; done`;
  const writer = spawn('ip', ['netns', 'exec', o.netns, 'bash', '-c', loop], { env: { ...process.env, ...o.env } });
  let written = '';
  writer.stdout.on('data', (d: Buffer) => (written += d.toString()));
  const done = new Promise((resolve) => writer.on('close', resolve));
  await sleep(1500);
  return {
    async stop() {
      await sleep(1500);
      writeFileSync(stopFile, '');
      await done;
      return written.trim().split('\n').filter(Boolean);
    },
    readBack(lines) {
      const got = spawnSync('ip', ['netns', 'exec', o.netns, 'sh', '-c', `${etcdctl} get --prefix ${q(o.prefix)} --keys-only --command-timeout=30s`], {
        env: { ...process.env, ...o.env },
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.equal(got.status, 0, `reading back ${o.prefix}: ${got.stderr}`);
      const have = new Set(got.stdout.split('\n').filter(Boolean));
      const acknowledged = acknowledgedWrites(lines);
      return acknowledged.map((n) => `${o.prefix}${n}`).filter((k) => !have.has(k));
    },
  };
}

/**
 * A writer for a cluster of the loopback harness (test/harness/cluster.ts), as kube-apiserver writes: with
 * the kube-apiserver client certificate of its output (kubernetes/root/), through every client URL of
 * admin/etcdctl.env, in the cluster's network namespace, with the cluster's etcdctl.
 */
export function startClusterWriter(cluster: LoopbackCluster, prefix: string): Promise<Writer> {
  const env = readFileSync(path.join(cluster.out, 'admin', 'etcdctl.env'), 'utf8');
  const endpoints = /^(?:export )?ETCDCTL_ENDPOINTS='?([^'\n]+)'?$/m.exec(env)?.[1];
  if (!endpoints) throw new Error('no ETCDCTL_ENDPOINTS in admin/etcdctl.env');
  const k8s = path.join(cluster.out, 'kubernetes', 'root');
  const find = (name: string): string => {
    const hit = readdirSync(k8s, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith(name));
    if (!hit) throw new Error(`no ${name} under ${k8s}`);
    return path.join(k8s, hit);
  };
  return startWriter({
    netns: cluster.netns,
    env: cluster.env,
    endpoints,
    cacert: find(path.join('etcd', 'ca.crt')),
    cert: find('apiserver-etcd-client.crt'),
    key: find('apiserver-etcd-client.key'),
    prefix,
    dir: cluster.dir,
  });
}
