/**
 * The real-hosts bed (issue 12): etcd-gen's output on booted Debian machines with systemd, sshd and
 * cloud-init, for test/hosts/ (`npm run test:hosts`).
 *
 * Each host is a `systemd-nspawn --boot` container of the bookworm root file system that
 * scripts/hosts-rootfs.sh builds once and caches as a tarball (/var/cache/etcd-gen/hosts/). Each host
 * has a network namespace of its own, joined to the others by a bridge in a namespace of the bed's
 * (10.77.0.0/24: the bed's side is .1, host i is .(10+i)); nothing reaches or leaves the machine. The
 * test, the runbooks and the writing client run in the bed's namespace, as an operator's machine on the
 * hosts' network.
 *
 * A host boots with its `nodes/<name>/user-data.yaml` as a NoCloud seed (/var/lib/cloud/seed/nocloud),
 * as a cloud hands it over, with meta-data giving its hostname and the operator's ssh public key
 * (`public-keys`), which cloud-init gives the image's default user (Debian's `debian`, with sudo and no
 * password, as the `default` entry of user-data's users keeps it). etcd comes by the `tarball` route from
 * an https server in the bed's namespace serving the matrix's binaries in etcd's tarball layout; the
 * server's CA is written into the hosts' trust store before boot (the one thing written into a host's
 * root file system besides the seed).
 *
 * Where PID 1 is not systemd (a container as CI's machine), nspawn runs with --register=no --keep-unit,
 * and each host's nspawn starts in cgroups of its own (name=systemd, unified, memory) below the test's,
 * so the hosts' services never share one. A host is killed hard by SIGKILL to every process of its
 * cgroups; teardown does that to every host, then removes the cgroups, the namespaces (the bridge and
 * veths go with them), the unpacked root file systems and what nspawn leaves in
 * /run/systemd/nspawn/propagate/.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { needTools, repoRoot, run, runCli, tempDir } from '../helpers.js';
import { sleep } from './cluster.js';
import { cacheDir, type TestRelease } from './releases.js';
import { startWriter, type Writer } from './writer.js';

export const BED_SUBNET = '10.77.0';
export const BED_ADDRESS = `${BED_SUBNET}.1`;
const TARBALL_PORT = 8443;
/** The image's default user, whom cloud-init gives the meta-data's ssh key and sudo without password. */
export const SUDO_USER = 'debian';

export interface Bed {
  dir: string;
  /** The etcd-gen output directory. */
  out: string;
  configFile: string;
  members: string[];
  /** The bed's network namespace (the operator's side). */
  netns: string;
  version: string;
  env: NodeJS.ProcessEnv;
  host(member: string): string;
  /** Runs a command in the bed's network namespace (the operator's machine). */
  ns(cmd: string, args: string[], options?: { timeout?: number; env?: NodeJS.ProcessEnv; input?: string }): SpawnSyncReturns<string>;
  /** Runs a bash command line on the operator's side (the bed's namespace, `ssh` as the operator has it), in out/ unless cwd. */
  shell(command: string, options?: { cwd?: string; timeout?: number }): SpawnSyncReturns<string>;
  /** Runs a shell command on a member over ssh as the sudo user (as an operator does). */
  ssh(member: string, command: string, options?: { timeout?: number; input?: string }): SpawnSyncReturns<string>;
  /** Runs a shell command as root inside a member's namespaces (test plumbing, not an operator's path). */
  inside(member: string, command: string, options?: { timeout?: number }): SpawnSyncReturns<string>;
  /** One of admin/aliases.sh's functions, from the bed's namespace. */
  etcdctl(fn: string, args: string): SpawnSyncReturns<string>;
  /** A runbook from out/runbooks/, run from the bed's namespace with the default remote (real ssh). */
  runbook(name: string, args?: string[], options?: { timeout?: number; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string>;
  /** Boots a host's container (first boot, or `fresh`: a new root file system and seed, as a new VM). */
  boot(member: string, options?: { fresh?: boolean }): void;
  /** The host pid of a member container's PID 1, or 0 when it is not running. */
  pid1(member: string): number;
  /** SIGKILL to every process of a member's host: the machine is gone at once. */
  kill(member: string): Promise<void>;
  /** Waits until cloud-init is done on every given member; returns its status per member. */
  waitCloudInit(members?: string[], timeoutMs?: number): Promise<Map<string, string>>;
  waitHealthy(timeoutMs?: number): Promise<boolean>;
  /** The last lines of each member's journal for etcd and cloud-init, for failure messages. */
  logs(tail?: number): string;
  /** The ssh options the bed's operator uses (known_hosts of the bed, the operator's key). */
  sshOptions: string[];
  /** The operator's known_hosts (empty at the start, as a first-time operator's). */
  knownHosts: string;
  /** The release tarball the tarball route serves, and its SHA-256. */
  releaseTarball: { file: string; sha256: string };
  /** A client writing with the kube-apiserver certificate through every endpoint (test/harness/writer.ts). */
  startWriter(prefix: string): Promise<Writer>;
  /** SHA-256 fingerprint of the certificate a member serves on a port (openssl s_client from the bed). */
  servedFingerprint(member: string, port?: number): string;
}

/** Whether this machine can run the bed; under CI a missing piece fails, elsewhere the loud skip. */
export function bedAvailable(t: TestContext): boolean {
  return needTools(t, ['debootstrap', 'systemd-nspawn', 'zstd', 'ip', 'ssh', 'ssh-keygen', 'openssl', 'nsenter', 'tar'], { root: true });
}

/** Where the root file system and the release tarballs are cached (scripts/hosts-rootfs.sh's default). */
const hostsCache = process.env.ETCD_GEN_HOSTS_CACHE ?? path.join(cacheDir, 'hosts');

const pid1IsSystemd = (): boolean => readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd';

/** The bookworm root file system tarball (built on first use; keyed by scripts/hosts-rootfs.sh's hash). */
export function rootfsTarball(): string {
  const r = run('bash', [path.join(repoRoot, 'scripts', 'hosts-rootfs.sh')], { timeout: 1_200_000, env: { ...process.env, ETCD_GEN_HOSTS_CACHE: hostsCache } });
  assert.equal(r.status, 0, `scripts/hosts-rootfs.sh failed:\n${r.stderr}`);
  return r.stdout.trim().split('\n').pop() ?? '';
}

/** A release's binaries in etcd's tarball layout (one top directory), cached in dir/<version>/. */
function releaseTarball(release: TestRelease, dir: string): { file: string; sha256: string } {
  const top = `etcd-v${release.version}-linux-amd64`;
  const file = path.join(dir, release.version, `${top}.tar.gz`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const work = mkdtempSync(path.join(dir, 'build-'));
    const src = path.join(work, top);
    mkdirSync(src, { recursive: true });
    for (const b of ['etcd', 'etcdctl', 'etcdutl']) if (existsSync(path.join(release.bin, b))) run('cp', [path.join(release.bin, b), src]);
    const r = run('tar', ['-czf', path.join(work, 'etcd.tar.gz'), '-C', work, top], { timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    mkdirSync(path.dirname(file), { recursive: true });
    renameSync(path.join(work, 'etcd.tar.gz'), file);
    rmSync(work, { recursive: true, force: true });
  }
  return { file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
}

/** The cgroup paths (per controller) this process is in, below which the hosts get theirs. */
function ownCgroups(): Map<string, string> {
  const mine = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, controllers = '', where = ''] = line.split(':');
    const mount = controllers === '' ? 'unified' : controllers === 'name=systemd' ? 'systemd' : controllers;
    if (['unified', 'systemd', 'memory'].includes(mount) && existsSync(`/sys/fs/cgroup/${mount}`)) mine.set(mount, path.join('/sys/fs/cgroup', mount, where));
  }
  return mine;
}

/**
 * Debian's etcd-server and etcd-client as a flat apt repository (the .debs and a Packages file), in the
 * hosts cache: `apt-get download` fetches them once (from the mirror apt uses here).
 */
function debianRepository(): string {
  const repo = path.join(hostsCache, 'debs');
  mkdirSync(repo, { recursive: true });
  const debs = () => readdirSync(repo).filter((f) => f.endsWith('.deb'));
  if (!['etcd-server_', 'etcd-client_'].every((p) => debs().some((f) => f.startsWith(p)))) {
    const r = run('sh', ['-c', `cd '${repo}' && apt-get download etcd-server etcd-client`], { timeout: 300_000 });
    assert.equal(r.status, 0, `apt-get download etcd-server etcd-client: ${r.stderr}`);
  }
  const packages = debs()
    .map((f) => {
      const control = run('dpkg-deb', ['-f', path.join(repo, f)]).stdout.trimEnd();
      const bytes = readFileSync(path.join(repo, f));
      return `${control}\nFilename: ./${f}\nSize: ${bytes.length}\nSHA256: ${createHash('sha256').update(bytes).digest('hex')}\n`;
    })
    .join('\n');
  writeFileSync(path.join(repo, 'Packages'), packages);
  return repo;
}

let bedsStarted = 0;

/**
 * Builds cluster.yaml (members on 10.77.0.11…, etcd by the tarball route from the bed's https server,
 * `extraYaml` appended), runs etcd-gen, and boots every member from the cached root file system.
 * Returns null when the test was skipped (no root or tools; under CI=true that fails instead).
 * Teardown is registered on t.after.
 */
export async function startBed(
  t: TestContext,
  options: {
    release: TestRelease;
    members?: string[];
    /** Hosts beyond cluster.yaml's members (addresses after theirs). */
    spares?: string[];
    extraYaml?: string;
    etcdFields?: string;
    /** The user-data a host boots with, instead of its nodes/<name>/user-data.yaml (a plain VM). */
    userData?: (host: string) => string | undefined;
    /**
     * etcd.install's route: `tarball` (default) from the bed's https server, or `package`: Debian's
     * etcd-server and etcd-client from a local apt repository written into each host's root file system
     * (the hosts have no other source), the release must then be Debian's (3.4.23 on bookworm).
     */
    install?: 'tarball' | 'package';
  },
): Promise<Bed | null> {
  if (!bedAvailable(t)) return null;
  const members = options.members ?? ['h1', 'h2', 'h3'];
  const hosts = [...members, ...(options.spares ?? [])];
  const { release } = options;
  const env = { PATH: `${release.bin}:${process.env.PATH ?? ''}` };
  const id = `eg${process.pid % 100000}x${bedsStarted++}`;
  const netns = `${id}-bed`;
  const hostNs = (m: string) => `${id}-${m}`;
  const host = (m: string) => `${BED_SUBNET}.${11 + hosts.indexOf(m)}`;
  const tarball = rootfsTarball();
  const dir = tempDir(t, 'etcd-gen-hosts-');
  chmodSync(dir, 0o755);
  const children = new Map<string, ChildProcess>();
  const cgroups = ownCgroups();
  const register = pid1IsSystemd() ? [] : ['--register=no', '--keep-unit'];
  let server: ChildProcess | null = null;

  const ns: Bed['ns'] = (cmd, args, o = {}) =>
    run('ip', ['netns', 'exec', netns, cmd, ...args], { timeout: o.timeout ?? 120_000, env: { ...process.env, ...env, ...o.env }, input: o.input });
  const hostCgroups = (m: string) => [...cgroups.values()].map((c) => path.join(c, id, m));

  /** Every pid in a host's cgroups (its nspawn and everything in the container). */
  const pidsOf = (m: string): number[] => {
    const pids = new Set<number>();
    // A host that reboots or stops removes its cgroups while they are read: a directory gone
    // between listing and reading holds no process, so ENOENT there is an empty cgroup.
    const walk = (d: string): void => {
      try {
        for (const p of readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(p));
        for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    };
    for (const c of hostCgroups(m)) walk(c);
    return [...pids];
  };
  const removeCgroups = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) removeCgroups(path.join(d, e.name));
    try {
      rmdirSync(d);
    } catch {
      /* still busy: teardown retries */
    }
  };

  t.after(async () => {
    server?.kill('SIGKILL');
    for (let round = 0; round < 50; round++) {
      const left = hosts.flatMap(pidsOf);
      if (left.length === 0) break;
      for (const p of left) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await sleep(200);
    }
    for (const c of cgroups.values()) removeCgroups(path.join(c, id));
    for (const m of hosts) run('ip', ['netns', 'del', hostNs(m)]);
    run('ip', ['netns', 'del', netns]);
    for (const m of hosts) rmSync(`/run/systemd/nspawn/propagate/${id}-${m}`, { recursive: true, force: true });
  });

  // The network: a bridge in the bed's namespace, one veth into each host's namespace.
  const ip = (...args: string[]) => {
    const r = run('ip', args);
    assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
  };
  ip('netns', 'add', netns);
  ip('-n', netns, 'link', 'set', 'lo', 'up');
  ip('-n', netns, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', netns, 'addr', 'add', `${BED_ADDRESS}/24`, 'dev', 'br0');
  ip('-n', netns, 'link', 'set', 'br0', 'up');
  for (const [i, m] of hosts.entries()) {
    ip('netns', 'add', hostNs(m));
    ip('-n', netns, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', hostNs(m));
    ip('-n', netns, 'link', 'set', `v${i}`, 'master', 'br0', 'up');
    ip('-n', hostNs(m), 'addr', 'add', `${host(m)}/24`, 'dev', 'eth0');
    ip('-n', hostNs(m), 'link', 'set', 'eth0', 'up');
    ip('-n', hostNs(m), 'link', 'set', 'lo', 'up');
  }

  // The https server the tarball route downloads from, with a CA of the bed's.
  const www = path.join(dir, 'www');
  mkdirSync(www);
  const { file: relTarball, sha256 } = releaseTarball(release, path.join(hostsCache, 'releases'));
  run('cp', [relTarball, www]);
  const tlsDir = path.join(dir, 'www-tls');
  mkdirSync(tlsDir);
  let r = run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=etcd-gen bed', '-addext', `subjectAltName=IP:${BED_ADDRESS}`, '-keyout', path.join(tlsDir, 'key.pem'), '-out', path.join(tlsDir, 'cert.pem')]);
  assert.equal(r.status, 0, r.stderr);
  const serverJs = `const https=require('https'),fs=require('fs'),p=require('path');https.createServer({key:fs.readFileSync(${JSON.stringify(path.join(tlsDir, 'key.pem'))}),cert:fs.readFileSync(${JSON.stringify(path.join(tlsDir, 'cert.pem'))})},(q,s)=>{const f=p.join(${JSON.stringify(www)},p.basename(decodeURIComponent(q.url)));fs.readFile(f,(e,b)=>{if(e){s.writeHead(404);s.end();}else{s.writeHead(200);s.end(b);}});}).listen(${TARBALL_PORT},${JSON.stringify(BED_ADDRESS)},()=>console.log('listening'));`;
  server = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', serverJs], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    server?.stdout?.once('data', () => resolve());
    server?.once('exit', (code) => reject(new Error(`the bed's https server exited (${code})`)));
  });

  // cluster.yaml and the build.
  const configFile = path.join(dir, 'cluster.yaml');
  const url = `https://${BED_ADDRESS}:${TARBALL_PORT}/${path.basename(relTarball)}`;
  const byPackage = options.install === 'package';
  const install = byPackage ? '{ from: package }' : `{ from: tarball, url: "${url}", sha256: ${sha256} }`;
  writeFileSync(
    configFile,
    `name: bed\netcd: { version: "${release.version}", install: ${install}${options.etcdFields ? `, ${options.etcdFields}` : ''} }\nnodes:\n${members.map((m) => `  - { name: ${m}, host: ${host(m)} }`).join('\n')}\n${byPackage ? 'paths: { bin: /usr/bin }\n' : ''}${options.extraYaml ?? ''}`,
  );
  const repo = byPackage ? debianRepository() : null;
  const built = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
  assert.equal(built.status, 0, `build failed: ${built.stderr}`);
  const out = path.join(dir, 'out');

  // The operator: an ssh key, and a known_hosts of the bed's own (a first-time operator's: empty).
  const operator = path.join(dir, 'operator');
  mkdirSync(operator, { mode: 0o700 });
  r = run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'etcd-gen-bed-operator', '-f', path.join(operator, 'id_ed25519')]);
  assert.equal(r.status, 0, r.stderr);
  const publicKey = readFileSync(path.join(operator, 'id_ed25519.pub'), 'utf8').trim();
  // The operator's ssh configuration, as ~/.ssh/config would hold it: the login user, the key, a
  // known_hosts of the bed's and a first-time host-key policy; `ssh` on the operator's PATH reads it (-F
  // keeps this machine's own configuration out).
  const sshConfig = path.join(operator, 'config');
  writeFileSync(sshConfig, `User ${SUDO_USER}\nIdentityFile ${path.join(operator, 'id_ed25519')}\nIdentitiesOnly yes\nUserKnownHostsFile ${path.join(operator, 'known_hosts')}\nStrictHostKeyChecking accept-new\nConnectTimeout 5\n`);
  const sshOptions = ['-F', sshConfig];
  const sshWrapper = path.join(operator, 'ssh');
  writeFileSync(sshWrapper, `#!/bin/sh\nexec /usr/bin/ssh -F '${sshConfig}' "$@"\n`, { mode: 0o755 });
  const operatorEnv = { PATH: `${operator}:${env.PATH}` };
  const shell: Bed['shell'] = (command, o = {}) =>
    run('ip', ['netns', 'exec', netns, 'bash', '-c', `cd '${o.cwd ?? out}' && ${command}`], { timeout: o.timeout ?? 120_000, env: { ...process.env, ...operatorEnv } });

  const rootOf = (m: string) => path.join(dir, 'hosts', m);
  const boot: Bed['boot'] = (m, o = {}) => {
    const root = rootOf(m);
    if (o.fresh) rmSync(root, { recursive: true, force: true });
    if (!existsSync(root)) {
      mkdirSync(root, { recursive: true });
      const x = run('sh', ['-c', `zstd -dc '${tarball}' | tar -x --numeric-owner -C '${root}'`], { timeout: 300_000 });
      assert.equal(x.status, 0, x.stderr);
      const seed = path.join(root, 'var/lib/cloud/seed/nocloud');
      mkdirSync(seed, { recursive: true });
      writeFileSync(path.join(seed, 'meta-data'), `instance-id: ${id}-${m}\nlocal-hostname: ${m}\npublic-keys:\n  - ${publicKey}\n`);
      const plain = options.userData?.(m);
      writeFileSync(path.join(seed, 'user-data'), plain ?? readFileSync(path.join(out, 'nodes', m, 'user-data.yaml')));
      appendFileSync(path.join(root, 'etc/ssl/certs/ca-certificates.crt'), readFileSync(path.join(tlsDir, 'cert.pem')));
      if (repo) {
        run('cp', ['-r', repo, path.join(root, 'var/local/etcd-debs')]);
        writeFileSync(path.join(root, 'etc/apt/sources.list'), 'deb [trusted=yes] file:/var/local/etcd-debs ./\n');
      }
    }
    const cgs = hostCgroups(m);
    const join = cgs.map((c) => `mkdir -p '${c}' && echo $$ > '${c}/cgroup.procs'`).join(' && ');
    const nspawn = ['systemd-nspawn', '--quiet', '--boot', `--directory=${root}`, `--machine=${id}-${m}`, `--hostname=${m}`, ...register, `--network-namespace-path=/run/netns/${hostNs(m)}`, '--console=pipe', '--resolv-conf=off', '--timezone=off', '--link-journal=no'];
    // A reboot inside (exit 133) boots the machine again, as systemd-nspawn@.service does.
    const script = `${join} && while :; do ${nspawn.map((a) => `'${a}'`).join(' ')} </dev/null; rc=$?; [ "$rc" -eq 133 ] || exit "$rc"; done`;
    const log = path.join(dir, `console-${m}.log`);
    const child = spawn('sh', ['-c', `exec >>'${log}' 2>&1; ${script}`], { stdio: 'ignore', detached: true, env: { ...process.env, SYSTEMD_NSPAWN_TMPFS_TMP: '0' } });
    child.unref();
    children.set(m, child);
  };

  const pid1: Bed['pid1'] = (m) => {
    // nspawn's child is the container's PID 1: the process of its cgroups whose NSpid ends in 1.
    for (const p of pidsOf(m)) {
      try {
        const status = readFileSync(`/proc/${p}/status`, 'utf8');
        if (/^NSpid:\s+\d+\s+1$/m.test(status)) return p;
      } catch {
        /* gone */
      }
    }
    return 0;
  };
  const inside: Bed['inside'] = (m, command, o = {}) => {
    const p = pid1(m);
    assert.ok(p > 0, `${m} is running`);
    return run('nsenter', ['-t', String(p), '-m', '-u', '-i', '-n', '-p', '--', '/bin/sh', '-c', command], { timeout: o.timeout ?? 60_000, maxBuffer: 512 * 1024 * 1024 });
  };
  const ssh: Bed['ssh'] = (m, command, o = {}) =>
    ns('ssh', [...sshOptions, '-o', 'BatchMode=yes', host(m), command], { timeout: o.timeout ?? 120_000, input: o.input });
  const aliases = path.join(out, 'admin', 'aliases.sh');
  const etcdctl: Bed['etcdctl'] = (fn, args) => ns('bash', ['-c', `. ${aliases} && ${fn} ${args}`], { timeout: 30_000 });
  const runbook: Bed['runbook'] = (name, args = [], o = {}) =>
    ns('bash', [path.join(out, 'runbooks', name), ...args], { timeout: o.timeout ?? 300_000, env: { ...operatorEnv, ETCD_GEN_SSH_USER: SUDO_USER, ETCD_GEN_WAIT: '90', ...o.env } });

  const kill: Bed['kill'] = async (m) => {
    for (let i = 0; i < 50; i++) {
      const left = pidsOf(m);
      if (left.length === 0) return;
      for (const p of left) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await sleep(100);
    }
    assert.fail(`${m} is still running after SIGKILL`);
  };

  const waitCloudInit: Bed['waitCloudInit'] = async (which = members, timeoutMs = 180_000) => {
    const status = new Map<string, string>();
    const until = Date.now() + timeoutMs;
    for (const m of which) {
      for (;;) {
        const s = pid1(m) > 0 ? inside(m, 'cloud-init status 2>/dev/null || true').stdout.trim() : '';
        if (/status: (done|error|degraded)/.test(s) || Date.now() > until) {
          status.set(m, s);
          break;
        }
        await sleep(500);
      }
    }
    return status;
  };
  const waitHealthy: Bed['waitHealthy'] = async (timeoutMs = 120_000) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (etcdctl('etcdctl_cluster', 'endpoint health --command-timeout=3s').status === 0) return true;
      await sleep(500);
    }
    return false;
  };
  const logs: Bed['logs'] = (tail = 30) =>
    hosts
      .filter((m) => pid1(m) > 0)
      .map((m) => `--- ${m}\n${inside(m, `journalctl --no-pager -n ${tail} -u etcd -u cloud-final -u cloud-config -u ssh 2>&1; tail -n ${tail} /var/log/cloud-init-output.log 2>&1`).stdout}`)
      .join('\n');

  const k8s = path.join(out, 'kubernetes', 'root', 'etc', 'kubernetes', 'pki');
  const endpoints = members.map((m) => `https://${host(m)}:2379`).join(',');
  const startWriterHere: Bed['startWriter'] = (prefix) =>
    startWriter({ netns, env, endpoints, cacert: path.join(k8s, 'etcd', 'ca.crt'), cert: path.join(k8s, 'apiserver-etcd-client.crt'), key: path.join(k8s, 'apiserver-etcd-client.key'), prefix, dir });
  const servedFingerprint: Bed['servedFingerprint'] = (m, port = 2379) => {
    const r = ns('sh', ['-c', `openssl s_client -connect ${host(m)}:${port} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`]);
    return r.stdout.trim();
  };
  const knownHosts = path.join(operator, 'known_hosts');
  return {
    dir, out, configFile, members, netns, version: release.version, env, host, ns, shell, ssh, inside, etcdctl, runbook, boot, pid1, kill, waitCloudInit, waitHealthy, logs, sshOptions, knownHosts,
    releaseTarball: { file: relTarball, sha256 }, startWriter: startWriterHere, servedFingerprint,
  };
}
