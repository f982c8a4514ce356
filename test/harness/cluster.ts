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
 *
 * A member is reached the way the runbooks reach one: through a "remote" command that takes the member's
 * host and one shell command, as ssh does (test/harness/member-shell.sh stands in for ssh; it runs the
 * command as root in the member's mount namespace), and `systemctl` there is
 * test/harness/systemctl.sh, which starts the unit's ExecStart as its User with its EnvironmentFiles.
 */
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { needTools, repoRoot, run, runCli, tempDir } from '../helpers.js';
import { checkoutModes, etcUsersWith, runInstallCommands } from './deploy.js';
import type { TestRelease } from './releases.js';
import { claimUidBlock } from './uids.js';

/** The stand-ins for ssh and systemctl, in the source tree (tests run from dist/). */
const harnessSources = path.join(repoRoot, 'test', 'harness');

export interface LoopbackCluster {
  dir: string;
  /** The etcd-gen output directory. */
  out: string;
  /** etcd's version, as `etcd --version` says it. */
  version: string;
  /** The environment (PATH with the release's binaries first) for processes a test spawns itself. */
  env: NodeJS.ProcessEnv;
  members: string[];
  /** The private network namespace the cluster lives in. */
  netns: string;
  /** The cluster.yaml etcd-gen built the output from. */
  configFile: string;
  /** Runs a command as root inside the cluster's network namespace. */
  ns(cmd: string, args: string[], options?: { cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string>;
  /** Runs one of admin/aliases.sh's functions (etcdctl_cluster, etcdctl_<member>) with arguments. */
  etcdctl(fn: string, args: string, cwd?: string): SpawnSyncReturns<string>;
  /** Copies a member's overlay from out/ to its host (with the modes git leaves) and runs the README's deploy commands. */
  deploy(member: string): void;
  /** Deploys a member, optionally wipes its data dir, and starts it with `systemctl start` on its host. */
  start(member: string, options?: { wipe?: boolean }): void;
  /** A runbook from out/runbooks/, run as an operator would from the admin side, reaching members through member-shell.sh. */
  runbook(name: string, args?: string[], options?: { timeout?: number; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string>;
  /** The address of a member or spare, 127.0.0.<n>. */
  host(member: string): string;
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

/** Clusters this process has started: each gets users and routing tables of its own. */
let clustersStarted = 0;

function unitValues(text: string, key: string): string[] {
  const values = text.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
  assert.ok(values.length > 0, `the unit has ${key}=`);
  return values;
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
    /** More fields of cluster.yaml's etcd mapping, in flow style, e.g. `tuning: { snapshotCount: 20000 }`. */
    etcdFields?: string;
    /** Words put before a member's ExecStart, run as the member's user (e.g. a tracer). */
    execPrefix?: (member: string) => string;
    /** Hosts ready for members that cluster.yaml does not have yet (addresses after the members'). */
    spares?: string[];
    /** The etcd release to run (test/harness/releases.ts); null or absent: the etcd on PATH. */
    release?: TestRelease | null;
    /** The address a member's connections leave from, when not its own (a second interface, NAT). */
    sourceAddress?: (member: string) => string | undefined;
    /** More fields of a member's entry in nodes, e.g. `extraSANs: [127.0.0.33]`. */
    nodeFields?: (member: string) => string | undefined;
    /** Return without waiting for the cluster to become healthy (a test of a cluster that must not). */
    unhealthy?: boolean;
    /**
     * paths.bin for a cluster whose members each have binaries of their own (an upgrade): on each member
     * this path is a directory of its own, first holding the release's binaries, which runbooks may
     * replace there. Absent: paths.bin is the release's directory, shared by every member.
     */
    memberBin?: string;
  } = {},
): Promise<LoopbackCluster | null> {
  const needed = ['ip', 'unshare', 'setpriv', 'mount', 'bash', 'pkill'];
  if (!needTools(t, options.release ? needed : ['etcd', 'etcdctl', ...needed], { root: true })) return null;
  const members = options.members ?? ['m1', 'm2', 'm3'];
  const hosts = [...members, ...(options.spares ?? [])];
  // Every command of this cluster (members, runbooks, aliases) finds the release's etcdctl first, as on
  // a member and an operator's machine; clusters of several releases can run side by side.
  const env = { PATH: options.release ? `${options.release.bin}:${process.env.PATH ?? ''}` : (process.env.PATH ?? '') };
  const etcdPath = run('sh', ['-c', 'command -v etcd'], { env }).stdout.trim();
  const version = /etcd Version: (\d+\.\d+\.\d+)/.exec(run(etcdPath, ['--version']).stdout)?.[1];
  assert.ok(version, 'etcd --version names its version');
  const etcdBin = path.dirname(etcdPath);
  // Users and routing tables of their own per cluster, so parallel runs and clusters never meet: 2000
  // blocks of 16 uids from 40000, claimed across processes (./uids.ts).
  const uids = claimUidBlock(40000, 16, 2000, (process.pid % 500) * 4 + (clustersStarted++ % 4));
  const base = uids.base;
  const uidOf = (i: number) => base + i;

  const dir = tempDir(t, 'etcd-gen-cluster-');
  chmodSync(dir, 0o755);
  const configFile = path.join(dir, 'cluster.yaml');
  writeFileSync(
    configFile,
    `name: ${options.name ?? 'e2e'}\netcd: { version: "${version}"${options.etcdFields ? `, ${options.etcdFields}` : ''} }\nnodes:\n${members.map((m, i) => `  - { name: ${m}, host: 127.0.0.${i + 1}${options.nodeFields?.(m) ? `, ${options.nodeFields(m)}` : ''} }`).join('\n')}\npaths: { bin: ${options.memberBin ?? etcdBin} }\n${options.extraYaml ?? ''}`,
  );
  const built = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
  assert.equal(built.status, 0, built.stderr);
  const out = path.join(dir, 'out');

  const netns = `etcd-gen-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  assert.equal(run('ip', ['netns', 'add', netns]).status, 0, 'ip netns add');
  const ns: LoopbackCluster['ns'] = (cmd, args, o = {}) => run('ip', ['netns', 'exec', netns, cmd, ...args], { ...o, env: { ...env, ...o.env } });
  t.after(async () => {
    for (let i = 0; i < hosts.length; i++) run('pkill', ['-KILL', '-u', String(uidOf(i))]);
    await sleep(200);
    run('ip', ['netns', 'del', netns]);
    uids.release();
  });
  const setup = [
    'ip link set lo up',
    'ip rule add pref 100 lookup local',
    'ip rule del pref 0 lookup local',
    ...hosts.map((h, i) => `ip route add local 127.0.0.0/8 dev lo src ${options.sourceAddress?.(h) ?? `127.0.0.${i + 1}`} table ${base + i} && ip rule add pref 10 uidrange ${uidOf(i)}-${uidOf(i)} lookup ${base + i}`),
  ];
  const routed = ns('sh', ['-ec', setup.join('\n')]);
  assert.equal(routed.status, 0, routed.stderr);

  const index = (member: string): number => {
    const i = hosts.indexOf(member);
    assert.ok(i >= 0, `no member ${member}`);
    return i;
  };
  const host = (member: string): string => `127.0.0.${index(member) + 1}`;
  const logFile = (member: string) => path.join(dir, `${member}.log`);

  // Where a member's paths are on the test machine: its overlay copy, the parent of its data dir (so
  // runbooks can set data aside beside it) and its /run/etcd-gen. Read from the first member's files:
  // every member has the same paths.
  const overlayOf = (member: string) => path.join(out, 'nodes', member, 'root');
  const unitText = readFileSync(path.join(overlayOf(members[0] ?? ''), 'etc', 'systemd', 'system', 'etcd.service'), 'utf8');
  const environmentFiles = unitValues(unitText, 'EnvironmentFile');
  const environmentFile = environmentFiles[0] ?? '';
  const joinEnvDir = path.dirname((environmentFiles[1] ?? '').replace(/^-/, ''));
  assert.ok(joinEnvDir.startsWith('/run/'), 'the unit has an optional EnvironmentFile on /run');
  const etcDir = path.dirname(environmentFile);
  const memberDataDir = envValue(readFileSync(path.join(overlayOf(members[0] ?? ''), environmentFile.slice(1)), 'utf8'), 'ETCD_DATA_DIR');
  const dataParent = path.dirname(memberDataDir);
  const rootOf = (member: string) => path.join(dir, `root-${member}`);
  const varOf = (member: string) => path.join(dir, `var-${member}`);
  const runOf = (member: string) => path.join(dir, `run-${member}`);
  const dataDir = (member: string) => path.join(varOf(member), path.basename(memberDataDir));
  const binOf = (member: string) => path.join(dir, `bin-${member}`);
  const binds = (member: string): [string, string][] => [
    [path.join(rootOf(member), etcDir.slice(1)), etcDir],
    [path.join(rootOf(member), 'etc', 'systemd', 'system'), '/etc/systemd/system'],
    [varOf(member), dataParent],
    [runOf(member), joinEnvDir],
    ...(options.memberBin ? [[binOf(member), options.memberBin] as [string, string]] : []),
  ];

  // member-shell.sh's table: host, name, uid, log, passwd and group files, then the bind mounts.
  const table = hosts.map((member, i) => {
    for (const d of [rootOf(member), varOf(member), runOf(member)]) mkdirSync(d, { recursive: true });
    if (options.memberBin) {
      mkdirSync(binOf(member), { recursive: true, mode: 0o755 });
      for (const b of ['etcd', 'etcdctl', 'etcdutl']) if (existsSync(path.join(etcdBin, b))) cpSync(path.join(etcdBin, b), path.join(binOf(member), b), { dereference: true });
    }
    const users = etcUsersWith(uidOf(i), mkdtempSync(path.join(dir, `users-${member}-`)));
    return [host(member), member, String(uidOf(i)), logFile(member), users.passwd, users.group, ...binds(member).flat()].join('\t');
  });
  const tableFile = path.join(dir, 'members.tsv');
  writeFileSync(tableFile, `${table.join('\n')}\n`);
  const memberShell = path.join(dir, 'member-shell');
  writeFileSync(memberShell, `#!/bin/sh\nexec bash ${path.join(harnessSources, 'member-shell.sh')} ${tableFile} ${path.join(harnessSources, 'systemctl.sh')} "$@"\n`, { mode: 0o755 });

  const onMember = (member: string, command: string, env: NodeJS.ProcessEnv = {}) => ns(memberShell, [host(member), command], { env, timeout: 60_000 });

  const deploy: LoopbackCluster['deploy'] = (member) => {
    const i = index(member);
    // The member's copy of its overlay, with the modes a git checkout leaves. The README's deploy
    // commands then set owners and modes, with this member's uid as the etcd user.
    rmSync(rootOf(member), { recursive: true, force: true });
    cpSync(overlayOf(member), rootOf(member), { recursive: true });
    checkoutModes(rootOf(member));
    const readme = readFileSync(path.join(out, 'README.md'), 'utf8');
    const installed = runInstallCommands(readme, binds(member), uidOf(i), mkdtempSync(path.join(dir, 'install-')));
    assert.equal(installed.status, 0, `the README's deploy commands for ${member}: ${installed.stderr}`);
  };

  const start: LoopbackCluster['start'] = (member, o = {}) => {
    deploy(member);
    if (o.wipe) rmSync(dataDir(member), { recursive: true, force: true });
    mkdirSync(dataDir(member), { recursive: true });
    const started = onMember(member, 'systemctl start --no-block etcd', { ETCD_GEN_TEST_EXEC_PREFIX: options.execPrefix?.(member) ?? '' });
    assert.equal(started.status, 0, `systemctl start on ${member}: ${started.stderr}`);
  };

  const signal = async (member: string, sig: 'KILL' | 'TERM'): Promise<void> => {
    const uid = String(uidOf(index(member)));
    run('pkill', [`-${sig}`, '-u', uid, ...(sig === 'TERM' ? ['-x', 'etcd'] : [])]);
    for (let n = 0; n < 100 && run('pgrep', ['-u', uid]).status === 0; n++) await sleep(100);
  };
  const kill: LoopbackCluster['kill'] = (member) => signal(member, 'KILL');
  const stop: LoopbackCluster['stop'] = (member) => signal(member, 'TERM');

  // On 3.4, runbooks get an etcdctl whose `endpoint health` fails while an alarm is raised, as it does
  // from 3.5 on; the releases after 3.4 run their own etcdctl as it is.
  const runbookEnv = { ETCD_GEN_REMOTE: memberShell, ETCD_GEN_WAIT: '60', ...(version.startsWith('3.4.') ? { ETCDCTL_BIN: path.join(harnessSources, 'etcdctl-alarm-health.sh') } : {}) };
  const runbook: LoopbackCluster['runbook'] = (name, args = [], o = {}) =>
    ns('bash', [path.join(out, 'runbooks', name), ...args], { cwd: dir, timeout: o.timeout ?? 180_000, env: { ...runbookEnv, ...o.env } });

  const aliases = path.join(out, 'admin', 'aliases.sh');
  const etcdctl: LoopbackCluster['etcdctl'] = (fn, args, cwd = '/') => ns('bash', ['-c', `. ${aliases} && ${fn} ${args}`], { cwd, timeout: 30_000 });
  const logs: LoopbackCluster['logs'] = (tail = 15) =>
    hosts
      .filter((m) => existsSync(logFile(m)))
      .map((m) => `--- ${m}\n${readFileSync(logFile(m), 'utf8').split('\n').slice(-tail).join('\n')}`)
      .join('\n');
  const waitHealthy: LoopbackCluster['waitHealthy'] = async (timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (etcdctl('etcdctl_cluster', 'endpoint health').status === 0) return true;
      await sleep(500);
    }
    return false;
  };

  for (const m of members) start(m);
  const uid = (member: string): number => uidOf(index(member));
  const cluster: LoopbackCluster = { dir, out, version, env: { ...process.env, ...env }, members, netns, configFile, ns, etcdctl, deploy, start, runbook, host, kill, stop, uid, dataDir, waitHealthy, logs };
  if (!options.unhealthy) assert.ok(await waitHealthy(), `the cluster became healthy\n${logs()}`);
  return cluster;
}
