/**
 * End to end: a real 3-member etcd cluster on 127.0.0.1, .2 and .3, started from the generated files.
 *
 * Each member runs what its unit says (ExecStart, with the EnvironmentFile loaded) in its own mount
 * namespace, where its root/ overlay is bind-mounted at the real paths: deploying is copying root/ to /,
 * and this is that, without touching the host. All members share one private network namespace, so the
 * test never touches the host's ports or routes. In it, each member runs as its own non-root user with a
 * routing rule that makes its connections leave from its own address, as they would from separate
 * hosts: etcd checks a peer's certificate names against the address a connection comes from, and on one
 * shared loopback every connection would otherwise come from 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, cpSync, mkdirSync, openSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { needTools, run, runCli, tempDir } from './helpers.js';

const MEMBERS = ['m1', 'm2', 'm3'];
const FIRST_UID = 40001;

interface Unit {
  execStart: string;
  environmentFile: string;
}

function parseUnit(text: string): Unit {
  const value = (key: string): string => {
    const line = text.split('\n').find((l) => l.startsWith(`${key}=`));
    assert.ok(line, `the unit has ${key}=`);
    return line.slice(key.length + 1);
  };
  return { execStart: value('ExecStart'), environmentFile: value('EnvironmentFile') };
}

function envValue(conf: string, name: string): string {
  const line = conf.split('\n').find((l) => l.startsWith(`${name}=`));
  assert.ok(line, `etcd.conf sets ${name}`);
  return line.slice(name.length + 1).replace(/^'(.*)'$/, '$1');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('e2e: a 3-member etcd cluster on 127.0.0.1-3 from the generated files', { timeout: 240_000 }, async (t) => {
  if (!needTools(t, ['etcd', 'etcdctl', 'ip', 'unshare', 'setpriv', 'mount', 'bash'], { root: true })) return;
  const version = /etcd Version: (\d+\.\d+\.\d+)/.exec(run('etcd', ['--version']).stdout)?.[1];
  assert.ok(version, 'etcd --version names its version');
  const etcdBin = path.dirname(run('sh', ['-c', 'command -v etcd']).stdout.trim());

  const dir = tempDir(t, 'etcd-gen-e2e-');
  chmodSync(dir, 0o755);
  writeFileSync(
    path.join(dir, 'cluster.yaml'),
    `name: e2e
etcd: { version: "${version}" }
nodes:
${MEMBERS.map((m, i) => `  - { name: ${m}, host: 127.0.0.${i + 1} }`).join('\n')}
paths: { bin: ${etcdBin} }
`,
  );
  const built = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
  assert.equal(built.status, 0, built.stderr);
  const out = path.join(dir, 'out');

  // A private network namespace: loopback up, and per-user routes that pick each member's source address.
  const netns = `etcd-gen-e2e-${process.pid}`;
  const ns = (cmd: string, args: string[], options: { cwd?: string; timeout?: number } = {}) => run('ip', ['netns', 'exec', netns, cmd, ...args], options);
  assert.equal(run('ip', ['netns', 'add', netns]).status, 0, 'ip netns add');
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (let i = 0; i < MEMBERS.length; i++) run('pkill', ['-KILL', '-u', String(FIRST_UID + i)]);
    await sleep(200);
    run('ip', ['netns', 'del', netns]);
  });
  const setup = [
    'ip link set lo up',
    'ip rule add pref 100 lookup local',
    'ip rule del pref 0 lookup local',
    ...MEMBERS.map((_, i) => `ip route add local 127.0.0.0/8 dev lo src 127.0.0.${i + 1} table ${200 + i} && ip rule add pref 10 uidrange ${FIRST_UID + i}-${FIRST_UID + i} lookup ${200 + i}`),
  ];
  const routed = ns('sh', ['-ec', setup.join('\n')]);
  assert.equal(routed.status, 0, routed.stderr);

  // Start every member from its own unit and etcd.conf.
  for (const [i, member] of MEMBERS.entries()) {
    const overlay = path.join(out, 'nodes', member, 'root');
    const unit = parseUnit(readFileSync(path.join(overlay, 'etc', 'systemd', 'system', 'etcd.service'), 'utf8'));
    const conf = readFileSync(path.join(overlay, unit.environmentFile.slice(1)), 'utf8');
    const etcDir = path.dirname(unit.environmentFile);
    const dataDir = envValue(conf, 'ETCD_DATA_DIR');
    const uid = FIRST_UID + i;
    // The member's copy of its overlay and an empty data dir, owned by its user as a deploy would set them.
    const root = path.join(dir, `root-${member}`);
    cpSync(overlay, root, { recursive: true });
    run('chown', ['-R', `${uid}:${uid}`, root]);
    const data = path.join(dir, `data-${member}`);
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, uid, uid);
    // Mount points must exist on the host; they stay empty there.
    mkdirSync(etcDir, { recursive: true });
    mkdirSync(dataDir, { recursive: true });
    const log = openSync(path.join(dir, `${member}.log`), 'w');
    const script = 'mount --bind "$1" "$2" && mount --bind "$3" "$4" && set -a && . "$5" && set +a && exec setpriv --reuid="$6" --regid="$6" --clear-groups -- $7';
    const child = spawn(
      'ip',
      ['netns', 'exec', netns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', path.join(root, etcDir.slice(1)), etcDir, data, dataDir, unit.environmentFile, String(uid), unit.execStart],
      { stdio: ['ignore', log, log] },
    );
    children.push(child);
  }

  const aliases = path.join(out, 'admin', 'aliases.sh');
  const etcdctl = (fn: string, args: string, cwd = '/') => ns('bash', ['-c', `. ${aliases} && ${fn} ${args}`], { cwd, timeout: 30_000 });
  const logs = (tail = 15) => MEMBERS.map((m) => `--- ${m}\n${readFileSync(path.join(dir, `${m}.log`), 'utf8').split('\n').slice(-tail).join('\n')}`).join('\n');

  let healthy = false;
  for (let i = 0; i < 60 && !healthy; i++) {
    healthy = etcdctl('etcdctl_cluster', 'endpoint health').status === 0;
    if (!healthy) await sleep(500);
  }
  assert.ok(healthy, `the cluster became healthy\n${logs()}`);

  await t.test('every member is healthy and started, through aliases.sh from another directory', () => {
    const health = etcdctl('etcdctl_cluster', 'endpoint health -w table', '/');
    assert.equal(health.status, 0, health.stderr);
    for (let i = 1; i <= 3; i++) assert.match(health.stdout, new RegExp(`https://127\\.0\\.0\\.${i}:2379 \\|\\s+true`));
    const members = etcdctl('etcdctl_cluster', 'member list -w simple');
    assert.equal(members.status, 0, members.stderr);
    for (const m of MEMBERS) assert.match(members.stdout, new RegExp(`, started, ${m}, https://127\\.0\\.0\\.\\d:2380, https://127\\.0\\.0\\.\\d:2379`));
  });

  await t.test('a write through one member is read back from another, also through etcdctl.env', () => {
    assert.equal(etcdctl('etcdctl_m1', 'put /e2e/greeting hello').status, 0);
    const read = etcdctl('etcdctl_m3', 'get /e2e/greeting --print-value-only');
    assert.equal(read.stdout.trim(), 'hello', read.stderr);
    const env = ns('bash', ['-c', `. ${path.join(out, 'admin', 'etcdctl.env')} && etcdctl get /e2e/greeting --print-value-only`], { cwd: '/' });
    assert.equal(env.stdout.trim(), 'hello', env.stderr);
  });

  await t.test('peers accept each other: no connection was refused for its certificate', () => {
    // A client hanging up mid-handshake is logged as rejected too ("EOF"); a certificate problem says x509.
    const refused = logs(Infinity).split('\n').filter((line) => line.includes('rejected connection') && /x509|certificate/.test(line));
    assert.deepEqual(refused, []);
  });

  await t.test('a client without a certificate is refused', () => {
    const r = ns('etcdctl', ['--endpoints=https://127.0.0.2:2379', `--cacert=${path.join(out, 'admin', 'pki', 'ca.crt')}`, '--command-timeout=5s', 'get', '/e2e/greeting']);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /hello/);
    assert.match(r.stderr, /certificate|deadline|handshake/i);
  });

  await t.test('a client with a certificate from another CA is refused', (tt) => {
    const other = tempDir(tt, 'etcd-gen-e2e-foreign-');
    writeFileSync(path.join(other, 'cluster.yaml'), `name: intruder\netcd: { version: "${version}" }\nnodes: [ { name: x, host: 127.0.0.9 } ]\n`);
    assert.equal(runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: other }).status, 0);
    const r = ns('etcdctl', [
      '--endpoints=https://127.0.0.2:2379',
      `--cacert=${path.join(out, 'admin', 'pki', 'ca.crt')}`,
      `--cert=${path.join(other, 'out', 'admin', 'pki', 'admin.crt')}`,
      `--key=${path.join(other, 'out', 'admin', 'pki', 'admin.key')}`,
      '--command-timeout=5s',
      'get',
      '/e2e/greeting',
    ]);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /hello/);
  });

  await t.test('with one member killed, writes are still accepted', async () => {
    const first = children[0];
    assert.ok(first);
    first.kill('SIGKILL');
    run('pkill', ['-KILL', '-u', String(FIRST_UID)]);
    // If the dead member led, the others elect a new leader first; a write sent during the election may
    // time out, and etcdctl does not retry a Put. Like any client, retry until the election is over.
    let write = etcdctl('etcdctl_m2', 'put /e2e/after-kill still-here --command-timeout=5s');
    for (let i = 0; i < 30 && write.status !== 0; i++) {
      await sleep(1000);
      write = etcdctl('etcdctl_m2', 'put /e2e/after-kill still-here --command-timeout=5s');
    }
    assert.equal(write.status, 0, `${write.stderr}\n${logs()}`);
    assert.equal(etcdctl('etcdctl_m3', 'get /e2e/after-kill --print-value-only').stdout.trim(), 'still-here');
    assert.equal(etcdctl('etcdctl_m2', 'get /e2e/greeting --print-value-only').stdout.trim(), 'hello');
    const health = etcdctl('etcdctl_cluster', 'endpoint health');
    assert.notEqual(health.status, 0, 'the cluster reports the dead member');
    assert.match(health.stdout + health.stderr, /127\.0\.0\.1:2379 is unhealthy/);
  });
});
