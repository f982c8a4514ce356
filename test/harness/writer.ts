/**
 * A client that writes while a runbook runs, as kube-apiserver does: with a given client certificate,
 * through every endpoint (etcdctl's balancer over the list), one put after another (PREFIX1, PREFIX2, …),
 * each with a 5 s timeout, until stopped. `stop` resolves with one line per write: "ok" or
 * "FAILED i: what etcdctl said". It runs in a network namespace (the cluster's or the bed's) and stops
 * by itself when its directory is gone, so a failed test cannot leave it writing.
 */
import { spawn } from 'node:child_process';
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
  stop(): Promise<string[]>;
}

export const failedWrites = (lines: readonly string[]): string[] => lines.filter((l) => l !== 'ok');

export async function startWriter(o: WriterOptions): Promise<Writer> {
  const stopFile = path.join(o.dir, `stop-writer-${o.prefix.replace(/\W/g, '_')}`);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const etcdctl = `etcdctl --endpoints=${q(o.endpoints)} --cacert=${q(o.cacert)} --cert=${q(o.cert)} --key=${q(o.key)}`;
  const loop = `i=0; while [ ! -e ${q(stopFile)} ] && [ -d ${q(o.dir)} ]; do i=$((i+1)); if err=$(${etcdctl} put ${q(o.prefix)}$i $i --command-timeout=5s 2>&1 >/dev/null); then echo ok; else echo "FAILED $i: $(tail -n 1 <<<"$err")"; fi; done`;
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
