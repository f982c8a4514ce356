/**
 * A real etcd cluster on 127.0.0.1, .2, .3 … started from etcd-gen's output, for tests.
 *
 * Each member runs what its unit says (ExecStart, with the EnvironmentFile loaded) in its own mount
 * namespace, where its root/ overlay is bind-mounted at the real paths: deploying is copying root/ to /,
 * and this is that, without touching the host. The copy starts with the modes a git checkout leaves;
 * the generated README's deploy commands set owners and modes (test/harness/deploy.ts), with the
 * member's own uid as the `etcd` user. All members share one private network namespace, so a
 * test never touches the host's ports or routes. In it, each member runs as its own non-root user with a
 * routing rule that makes its connections leave from its own address, as they would from separate
 * hosts: etcd checks a peer's certificate names against the address a connection comes from, and on one
 * shared loopback every connection would otherwise come from 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { needTools, run, runCli, tempDir } from '../helpers.js';
import { checkoutModes, runInstallCommands } from './deploy.js';

export interface LoopbackCluster {
  dir: string;
  /** The etcd-gen output directory. */
  out: string;
  /** etcd's version, as `etcd --version` says it. */
  version: string;
  members: string[];
  /** Runs a command as root inside the cluster's network namespace. */
  ns(cmd: string, args: string[], options?: { cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string>;
  /** Runs one of admin/aliases.sh's functions (etcdctl_cluster, etcdctl_<member>) with arguments. */
  etcdctl(fn: string, args: string, cwd?: string): SpawnSyncReturns<string>;
  /** Starts a member from its current overlay in out/ (copied again each time), optionally with a wiped data dir. */
  start(member: string, options?: { wipe?: boolean }): void;
  /** SIGKILLs a member and waits for it to be gone. */
  kill(member: string): Promise<void>;
  /** SIGTERMs a member (etcd shuts down cleanly) and waits for it to be gone. */
  stop(member: string): Promise<void>;
  /** The uid a member runs as (its `etcd` user). */
  uid(member: string): number;
  dataDir(member: string): string;
  /** Polls `etcdctl_cluster endpoint health` until it passes or the time is up. */
  waitHealthy(timeoutMs?: number): Promise<boolean>;
  /** The last lines of every member's log, for failure messages. */
  logs(tail?: number): string;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function unitValue(text: string, key: string): string {
  const line = text.split('\n').find((l) => l.startsWith(`${key}=`));
  assert.ok(line, `the unit has ${key}=`);
  return line.slice(key.length + 1);
}

export function envValue(conf: string, name: string): string {
  const line = conf.split('\n').find((l) => l.startsWith(`${name}=`));
  assert.ok(line, `etcd.conf sets ${name}`);
  return line.slice(name.length + 1).replace(/^'(.*)'$/, '$1');
}

/**
 * Builds a cluster.yaml of `members` on 127.0.0.1… with etcd-gen's CLI and starts every member.
 * Returns null when the test was skipped for a missing tool (under CI=true that fails instead).
 */
export async function startLoopbackCluster(
  t: TestContext,
  options: {
    name?: string;
    members?: string[];
    extraYaml?: string;
    /** Words put before a member's ExecStart, run as the member's user (e.g. a tracer). */
    execPrefix?: (member: string) => string;
  } = {},
): Promise<LoopbackCluster | null> {
  if (!needTools(t, ['etcd', 'etcdctl', 'ip', 'unshare', 'setpriv', 'mount', 'bash', 'pkill'], { root: true })) return null;
  const members = options.members ?? ['m1', 'm2', 'm3'];
  const version = /etcd Version: (\d+\.\d+\.\d+)/.exec(run('etcd', ['--version']).stdout)?.[1];
  assert.ok(version, 'etcd --version names its version');
  const etcdBin = path.dirname(run('sh', ['-c', 'command -v etcd']).stdout.trim());
  // Users and routing tables of their own per test process, so parallel runs never meet.
  const base = 40000 + (process.pid % 1000) * 16;
  const uidOf = (i: number) => base + i;

  const dir = tempDir(t, 'etcd-gen-cluster-');
  chmodSync(dir, 0o755);
  writeFileSync(
    path.join(dir, 'cluster.yaml'),
    `name: ${options.name ?? 'e2e'}\netcd: { version: "${version}" }\nnodes:\n${members.map((m, i) => `  - { name: ${m}, host: 127.0.0.${i + 1} }`).join('\n')}\npaths: { bin: ${etcdBin} }\n${options.extraYaml ?? ''}`,
  );
  const built = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
  assert.equal(built.status, 0, built.stderr);
  const out = path.join(dir, 'out');

  const netns = `etcd-gen-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  assert.equal(run('ip', ['netns', 'add', netns]).status, 0, 'ip netns add');
  const ns: LoopbackCluster['ns'] = (cmd, args, o = {}) => run('ip', ['netns', 'exec', netns, cmd, ...args], o);
  const children = new Map<string, ChildProcess>();
  t.after(async () => {
    for (const child of children.values()) child.kill('SIGKILL');
    for (let i = 0; i < members.length; i++) run('pkill', ['-KILL', '-u', String(uidOf(i))]);
    await sleep(200);
    run('ip', ['netns', 'del', netns]);
  });
  const setup = [
    'ip link set lo up',
    'ip rule add pref 100 lookup local',
    'ip rule del pref 0 lookup local',
    ...members.map((_, i) => `ip route add local 127.0.0.0/8 dev lo src 127.0.0.${i + 1} table ${base + i} && ip rule add pref 10 uidrange ${uidOf(i)}-${uidOf(i)} lookup ${base + i}`),
  ];
  const routed = ns('sh', ['-ec', setup.join('\n')]);
  assert.equal(routed.status, 0, routed.stderr);

  const dataDir = (member: string) => path.join(dir, `data-${member}`);
  const logFile = (member: string) => path.join(dir, `${member}.log`);

  const start: LoopbackCluster['start'] = (member, o = {}) => {
    const i = members.indexOf(member);
    assert.ok(i >= 0, `no member ${member}`);
    const overlay = path.join(out, 'nodes', member, 'root');
    const unitText = readFileSync(path.join(overlay, 'etc', 'systemd', 'system', 'etcd.service'), 'utf8');
    const execStart = unitValue(unitText, 'ExecStart');
    const environmentFile = unitValue(unitText, 'EnvironmentFile');
    const conf = readFileSync(path.join(overlay, environmentFile.slice(1)), 'utf8');
    const etcDir = path.dirname(environmentFile);
    const memberDataDir = envValue(conf, 'ETCD_DATA_DIR');
    const uid = uidOf(i);
    // The member's copy of its overlay, with the modes a git checkout leaves, and its data dir. The
    // README's deploy commands then set owners and modes, with this member's uid as the etcd user.
    const root = path.join(dir, `root-${member}`);
    rmSync(root, { recursive: true, force: true });
    cpSync(overlay, root, { recursive: true });
    checkoutModes(root);
    const data = dataDir(member);
    if (o.wipe) rmSync(data, { recursive: true, force: true });
    mkdirSync(data, { recursive: true });
    const binds: [string, string][] = [
      [path.join(root, etcDir.slice(1)), etcDir],
      [path.join(root, 'etc', 'systemd', 'system'), '/etc/systemd/system'],
      [data, memberDataDir],
    ];
    const readme = readFileSync(path.join(out, 'README.md'), 'utf8');
    const installed = runInstallCommands(readme, binds, uid, mkdtempSync(path.join(dir, 'install-')));
    assert.equal(installed.status, 0, `the README's deploy commands for ${member}: ${installed.stderr}`);
    const log = openSync(logFile(member), 'a');
    const script = 'mount --bind "$1" "$2" && mount --bind "$3" "$4" && set -a && . "$5" && set +a && exec setpriv --reuid="$6" --regid="$6" --clear-groups -- $7';
    const child = spawn(
      'ip',
      ['netns', 'exec', netns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', path.join(root, etcDir.slice(1)), etcDir, data, memberDataDir, environmentFile, String(uid), `${options.execPrefix?.(member) ?? ''} ${execStart}`],
      { stdio: ['ignore', log, log] },
    );
    children.set(member, child);
  };

  const signal = async (member: string, sig: 'KILL' | 'TERM'): Promise<void> => {
    const i = members.indexOf(member);
    if (sig === 'KILL') children.get(member)?.kill('SIGKILL');
    run('pkill', [`-${sig}`, '-u', String(uidOf(i)), ...(sig === 'TERM' ? ['-x', 'etcd'] : [])]);
    for (let n = 0; n < 100 && run('pgrep', ['-u', String(uidOf(i))]).status === 0; n++) await sleep(100);
    children.delete(member);
  };
  const kill: LoopbackCluster['kill'] = (member) => signal(member, 'KILL');
  const stop: LoopbackCluster['stop'] = (member) => signal(member, 'TERM');

  const aliases = path.join(out, 'admin', 'aliases.sh');
  const etcdctl: LoopbackCluster['etcdctl'] = (fn, args, cwd = '/') => ns('bash', ['-c', `. ${aliases} && ${fn} ${args}`], { cwd, timeout: 30_000 });
  const logs: LoopbackCluster['logs'] = (tail = 15) =>
    members.map((m) => `--- ${m}\n${readFileSync(logFile(m), 'utf8').split('\n').slice(-tail).join('\n')}`).join('\n');
  const waitHealthy: LoopbackCluster['waitHealthy'] = async (timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (etcdctl('etcdctl_cluster', 'endpoint health').status === 0) return true;
      await sleep(500);
    }
    return false;
  };

  for (const m of members) start(m);
  const uid = (member: string): number => uidOf(members.indexOf(member));
  const cluster: LoopbackCluster = { dir, out, version, members, ns, etcdctl, start, kill, stop, uid, dataDir, waitHealthy, logs };
  assert.ok(await waitHealthy(), `the cluster became healthy\n${logs()}`);
  return cluster;
}
