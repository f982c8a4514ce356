/**
 * The runbooks in out/runbooks/, run for real against a 3-member etcd cluster on 127.0.0.1-3 (the
 * loopback harness of the e2e test), as an operator runs them: from the output directory's admin side,
 * reaching members through a stand-in for ssh. Each step is checked by what etcd then holds.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createCa } from '../../src/pki/issue.js';
import type { CertSpec } from '../../src/pki/profiles.js';
import { RUNBOOKS } from '../../src/render/render.js';
import { needTools, run, runCli } from '../helpers.js';
import { sleep, startLoopbackCluster, type LoopbackCluster } from '../harness/cluster.js';
import { testEachRelease } from '../harness/releases.js';
import { startClusterWriter } from '../harness/writer.js';

const RUNNABLE = RUNBOOKS.filter((r) => r !== 'lib.sh' && r !== 'cluster.sh');

/** A put that rides out a leader election, as a client would. */
async function put(cluster: LoopbackCluster, key: string, value: string, fn = 'etcdctl_cluster'): Promise<void> {
  let r = cluster.etcdctl(fn, `put ${key} ${value} --command-timeout=5s`);
  for (let i = 0; i < 20 && r.status !== 0; i++) {
    await sleep(1000);
    r = cluster.etcdctl(fn, `put ${key} ${value} --command-timeout=5s`);
  }
  assert.equal(r.status, 0, `put ${key}: ${r.stderr}\n${cluster.logs()}`);
}

/** A key's value as member `fn` alone holds it (a serializable read, answered from its own data). */
async function localValue(cluster: LoopbackCluster, fn: string, key: string, expect: string): Promise<string> {
  let value = '';
  for (let i = 0; i < 20; i++) {
    value = cluster.etcdctl(fn, `get ${key} --print-value-only --consistency=s`).stdout.trim();
    if (value === expect) break;
    await sleep(500);
  }
  return value;
}


function memberList(cluster: LoopbackCluster): string[] {
  const r = cluster.etcdctl('etcdctl_cluster', 'member list -w simple');
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => l.split(', ').slice(1, 3).join(' ') + (l.endsWith('true') ? ' learner' : '')).sort();
}

function rewriteNodes(cluster: LoopbackCluster, members: string[]): void {
  const text = readFileSync(cluster.configFile, 'utf8');
  const nodes = members.map((m) => `  - { name: ${m}, host: ${cluster.host(m)} }`).join('\n');
  writeFileSync(cluster.configFile, text.replace(/nodes:\n(?: {2}- .*\n)+/, `nodes:\n${nodes}\n`));
}

const fingerprint = (cluster: LoopbackCluster, pem: string): string => {
  const r = cluster.ns('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', pem]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
};

/** The SHA-256 fingerprint of the certificate a member serves on its client port (or its peer port). */
function servedFingerprint(cluster: LoopbackCluster, member: string, port = 2379): string {
  const pki = path.join(cluster.out, 'admin', 'pki');
  const script = `openssl s_client -connect ${cluster.host(member)}:${port} -CAfile ${pki}/ca.crt -cert ${pki}/admin.crt -key ${pki}/admin.key </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`;
  const r = cluster.ns('sh', ['-c', script]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/**
 * The CA of `caPem` as it would be once expired: the same name and key (so every leaf it signed still
 * chains to it), valid for one day three days ago. Stands in for years of waiting.
 */
async function expiredTwin(caPem: string, keyPem: string): Promise<string> {
  const commonName = /^CN=(.*)$/m.exec(new X509Certificate(caPem).subject)?.[1];
  assert.ok(commonName);
  const privateKey = createPrivateKey(keyPem);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), algorithm, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', createPublicKey(privateKey).export({ type: 'spki', format: 'der' }), algorithm, true, ['verify']),
  } as CryptoKeyPair;
  return createCa({ commonName, keyType: 'ecdsa-p256', days: 1 } as CertSpec, keys, new Date(Date.now() - 3 * 86_400_000));
}

/** Every file under `dir` whose contents hold `pem`, with it replaced by `by`. */
function replacePem(dir: string, pem: string, by: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    if (!text.includes(pem)) continue;
    writeFileSync(file, text.split(pem).join(by));
    n++;
  }
  return n;
}

test('member_set_aside_data renames within a data dir that is a mount point of its own, and beside one that is not', async (t) => {
  if (!needTools(t, ['bash', 'unshare', 'mount', 'mountpoint', 'stat'], { root: true })) return;
  const { buildInto, tempDir } = await import('../helpers.js');
  const { etcUsersWith } = await import('../harness/deploy.js');
  const { out } = await buildInto(t, 'name: p\netcd: { version: "3.4.23" }\nnodes: [ { name: m1, host: 127.0.0.1 } ]\n');
  const scratch = tempDir(t);
  const users = etcUsersWith(process.getuid?.() ?? 0, scratch);
  // In a private mount namespace: /var/lib on a tmpfs, and with `dedicated`, the data dir on a second
  // one holding lost+found, as a freshly made file system does. The remote step runs right there.
  const script = (dedicated: boolean) => `set -eu
mount --bind ${users.passwd} /etc/passwd && mount --bind ${users.group} /etc/group
mount -t tmpfs none /var/lib && mkdir /var/lib/etcd
${dedicated ? 'mount -t tmpfs none /var/lib/etcd && mkdir /var/lib/etcd/lost+found' : ''}
mkdir -p /var/lib/etcd/member/wal && echo data >/var/lib/etcd/member/wal/0.wal
ETCD_GEN_REMOTE=${path.join(scratch, 'here')} bash -c '. "$1" && member_set_aside_data 127.0.0.1 removed' bash ${path.join(out, 'runbooks', 'lib.sh')}
cd /var/lib && find . | LC_ALL=C sort
for f in /var/lib/etcd/removed-* /var/lib/etcd.removed-*; do
  if [ -e "$f" ]; then echo "same disk as the data dir: $([ "$(stat -c %d "$f")" = "$(stat -c %d /var/lib/etcd)" ] && echo yes || echo no)"; fi
done`;
  writeFileSync(path.join(scratch, 'here'), '#!/bin/sh\nexec sh -c "$2"\n', { mode: 0o755 });
  const ls = (dedicated: boolean) => {
    const r = run('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script(dedicated)]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').map((l) => l.replace(/\d{8}T\d{6}Z/, 'STAMP'));
  };
  assert.deepEqual(ls(true), ['.', './etcd', './etcd/lost+found', './etcd/removed-STAMP', './etcd/removed-STAMP/member', './etcd/removed-STAMP/member/wal', './etcd/removed-STAMP/member/wal/0.wal', 'same disk as the data dir: yes']);
  assert.deepEqual(ls(false), ['.', './etcd', './etcd.removed-STAMP', './etcd.removed-STAMP/member', './etcd.removed-STAMP/member/wal', './etcd.removed-STAMP/member/wal/0.wal', 'same disk as the data dir: yes']);
});

testEachRelease('runbooks against a live 3-member etcd cluster', 'newest', { timeout: 2_400_000 }, async (t, release) => {
  const cluster = await startLoopbackCluster(t, { name: 'rb', spares: ['m4'], release });
  if (!cluster) return;
  if (!needTools(t, ['openssl', 'tar', 'sha256sum'])) return;
  const { runbook, logs } = cluster;
  const snapshot = path.join(cluster.dir, 'backup.db');

  await t.test('every runbook explains itself with --help, and refuses an unknown option with exit 2', () => {
    for (const name of RUNNABLE) {
      const help = runbook(name, ['--help']);
      assert.equal(help.status, 0, `${name} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^Usage: ${name.replace('.', '\\.')} `), name);
      assert.match(help.stdout, /Exit codes: 0 /, name);
      const bad = runbook(name, ['--no-such-option']);
      assert.equal(bad.status, 2, `${name} --no-such-option: ${bad.stderr}`);
    }
  });

  await t.test('health.sh: exit 0, a row per member, exactly one leader, no alarm', () => {
    const r = runbook('health.sh');
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.split('\n').filter((l) => /^m\d /.test(l));
    assert.equal(rows.length, 3, r.stdout);
    for (const row of rows) assert.match(row, /^m\d\s+https:\/\/127\.0\.0\.\d:2379\s+true\s+(yes|no)\s+\d+\s+\d+\s+\d+$/);
    assert.equal(rows.filter((l) => /\strue\s+yes\s/.test(l)).length, 1, r.stdout);
    assert.match(r.stdout, /^alarms: none$/m);
  });

  await t.test('snapshot.sh writes a snapshot, checks it, and never overwrites one', async () => {
    await put(cluster, '/rb/before-snapshot', 'kept');
    const r = runbook('snapshot.sh', [snapshot]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /REVISION/, 'snapshot status printed its table');
    assert.equal(statSync(snapshot).mode & 0o777, 0o600);
    const sum = run('sha256sum', ['-c', 'backup.db.sha256'], { cwd: cluster.dir });
    assert.equal(sum.status, 0, sum.stdout + sum.stderr);
    const again = runbook('snapshot.sh', [snapshot]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /exists/);
    await put(cluster, '/rb/after-snapshot', 'lost-on-restore');
  });

  await t.test('in a shell that sourced admin/etcdctl.env, the runbooks and the aliases still work, in either order with aliases.sh', async () => {
    const admin = path.join(cluster.out, 'admin');
    // The environment of an operator's shell after `. admin/etcdctl.env`, as the README says to.
    const sourced = cluster.ns('bash', ['-c', `. ${admin}/etcdctl.env && env -0`]);
    assert.equal(sourced.status, 0, sourced.stderr);
    const env = Object.fromEntries(sourced.stdout.split('\0').filter((l) => l.startsWith('ETCDCTL_')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.deepEqual(Object.keys(env).sort(), ['ETCDCTL_CACERT', 'ETCDCTL_CERT', 'ETCDCTL_ENDPOINTS', 'ETCDCTL_KEY']);
    // etcdctl itself refuses a setting given both ways: the runbooks must not give it that choice.
    const both = cluster.ns('bash', ['-c', `. ${admin}/etcdctl.env && etcdctl --endpoints="$ETCDCTL_ENDPOINTS" endpoint health`]);
    assert.notEqual(both.status, 0, 'etcdctl accepts a setting given both as a variable and a flag: nothing to guard against');

    const health = runbook('health.sh', [], { env });
    assert.equal(health.status, 0, health.stdout + health.stderr);
    assert.equal(health.stdout.split('\n').filter((l) => /^m\d\s+\S+\s+true\s/.test(l)).length, 3, health.stdout);
    const file = path.join(cluster.dir, 'sourced-env.db');
    const saved = runbook('snapshot.sh', [file], { env });
    assert.equal(saved.status, 0, saved.stderr);
    assert.ok(statSync(file).size > 0);

    for (const order of [['etcdctl.env', 'aliases.sh'], ['aliases.sh', 'etcdctl.env']]) {
      const script = `set -euo pipefail; . ${admin}/${order[0]}; . ${admin}/${order[1]}; etcdctl_cluster put /rb/sourced ${order[0]}; etcdctl_m2 get /rb/sourced --print-value-only; printf '%s\\n' "$ETCDCTL_ENDPOINTS"`;
      const r = cluster.ns('bash', ['-c', script], { cwd: '/' });
      assert.equal(r.status, 0, `${order.join(' then ')}: ${r.stderr}`);
      // The alias ran, and the shell keeps what etcdctl.env set: the aliases change nothing in it.
      assert.deepEqual(r.stdout.trim().split('\n').slice(-2), [order[0], env.ETCDCTL_ENDPOINTS], order.join(' then '));
    }
  });

  await t.test('when etcdctl fails, health.sh and snapshot.sh say what etcdctl said', () => {
    // The real etcdctl, refusing a setting it is given both as a variable and as a flag: the runbooks
    // pass --dial-timeout, and this etcdctl's environment holds ETCDCTL_DIAL_TIMEOUT as well.
    const env = { ETCDCTL_BIN: path.join(cluster.dir, 'etcdctl-with-dial-timeout') };
    writeFileSync(env.ETCDCTL_BIN, '#!/bin/sh\nETCDCTL_DIAL_TIMEOUT=1s exec etcdctl "$@"\n', { mode: 0o755 });
    const said = /etcdctl said: .*conflicting environment variable.*ETCDCTL_DIAL_TIMEOUT/;
    const health = runbook('health.sh', [], { env });
    assert.equal(health.status, 1, health.stderr);
    for (const m of cluster.members) assert.match(health.stderr, new RegExp(`^health\\.sh: ${m}: ${said.source}`, 'm'));
    assert.match(health.stderr, new RegExp(`^health\\.sh: alarm list: ${said.source}`, 'm'));
    const snap = runbook('snapshot.sh', [path.join(cluster.dir, 'never.db')], { env });
    assert.equal(snap.status, 1, snap.stderr);
    assert.match(snap.stderr, new RegExp(`m3 is not healthy; ${said.source}`));
  });

  await t.test('defrag.sh asks first; then compacts old revisions, keeps the data, and leaves the cluster healthy', async () => {
    await put(cluster, '/rb/counter', '0');
    const first = JSON.parse(cluster.etcdctl('etcdctl_cluster', 'get /rb/counter -w json').stdout) as { header: { revision: number } };
    for (let i = 1; i <= 30; i++) await put(cluster, '/rb/counter', String(i));

    const unconfirmed = runbook('defrag.sh');
    assert.equal(unconfirmed.status, 4, unconfirmed.stderr);
    assert.equal(cluster.etcdctl('etcdctl_cluster', `get /rb/counter --rev=${first.header.revision} --print-value-only`).stdout.trim(), '0', 'nothing was compacted');

    const r = runbook('defrag.sh', ['--yes']);
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    // Followers first, the leader last, each with its size before and after.
    assert.equal((r.stderr.match(/defragmenting m\d/g) ?? []).length, 3, r.stderr);
    assert.match(r.stderr, /m\d: \d+ -> \d+ bytes/);
    t.diagnostic(`defrag.sh: ${(r.stderr.match(/m\d: \d+ -> \d+ bytes/g) ?? []).join('; ')}`);
    const old = cluster.etcdctl('etcdctl_cluster', `get /rb/counter --rev=${first.header.revision}`);
    assert.notEqual(old.status, 0);
    assert.match(old.stderr, /required revision has been compacted/);
    assert.equal(cluster.etcdctl('etcdctl_cluster', 'get /rb/counter --print-value-only').stdout.trim(), '30');
    assert.equal(cluster.etcdctl('etcdctl_cluster', 'get /rb/before-snapshot --print-value-only').stdout.trim(), 'kept');
    assert.equal(runbook('health.sh').status, 0);
  });

  await t.test('health.sh fails with a member down; replace-member.sh rebuilds a member whose data is gone', async () => {
    await put(cluster, '/rb/before-kill', 'one');
    await cluster.kill('m1');
    run('rm', ['-rf', cluster.dataDir('m1')]);
    const down = runbook('health.sh');
    assert.equal(down.status, 1, down.stdout);
    assert.match(down.stdout, /^m1\s+\S+\s+false\s/m);
    assert.match(down.stderr, /NOT healthy/);
    await put(cluster, '/rb/while-down', 'two');

    const writer = await startClusterWriter(cluster, '/rb/during-replace/');
    const r = runbook('replace-member.sh', ['m1', '--yes']);
    const writes = await writer.stop();
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    assert.deepEqual(writes.filter((l) => l !== 'ok'), [], 'no write failed while m1 was replaced');
    assert.ok(writes.length >= 10, `the writer kept writing (${writes.length} writes)`);
    t.diagnostic(`replace-member.sh: ${writes.length} writes while it ran, ${writes.filter((l) => l !== 'ok').length} failed`);
    assert.match(r.stderr, /added m1 as voter [0-9a-f]+/);
    assert.match(r.stderr, /m1 has joined/);
    await put(cluster, '/rb/after-replace', 'three');

    assert.deepEqual(memberList(cluster), ['started m1', 'started m2', 'started m3']);
    // m1 answers from its own, rebuilt data: everything written before, during and after.
    for (const [key, value] of [['/rb/before-snapshot', 'kept'], ['/rb/before-kill', 'one'], ['/rb/while-down', 'two'], ['/rb/after-replace', 'three']] as const) {
      assert.equal(await localValue(cluster, 'etcdctl_m1', key, value), value, `m1 holds ${key}`);
    }
    const during = cluster.etcdctl('etcdctl_m1', 'get /rb/during-replace/ --prefix --keys-only --consistency=s');
    assert.equal(during.stdout.split('\n').filter((l) => l.startsWith('/rb/during-replace/')).length, writes.length, 'm1 holds every write made while it was replaced');
    assert.ok(existsSync(path.join(cluster.dataDir('m1'), 'member')), "m1's data dir was rebuilt");
    assert.equal(existsSync(path.join(cluster.dir, 'run-m1', 'join.env')), false, 'the join settings are gone once m1 has joined');
    assert.equal(runbook('health.sh').status, 0);
  });

  await t.test('replace-member.sh refuses when the others could not keep a quorum', async () => {
    await cluster.kill('m2');
    await cluster.kill('m3');
    const r = runbook('replace-member.sh', ['m1', '--yes']);
    // etcd 3.4 still lists members without a quorum (3.5 refuses to): refused either way, nothing changed.
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /only 0 of the voting members other than m1 are healthy; removing it takes 2 of the 3|is a quorum of rb up/);
    assert.doesNotMatch(r.stderr, /unrecognized environment variable/, 'ETCDCTL_BIN stays out of etcdctl\'s environment');
    cluster.start('m2');
    cluster.start('m3');
    assert.ok(await cluster.waitHealthy(60_000), logs());
    assert.deepEqual(memberList(cluster), ['started m1', 'started m2', 'started m3']);
  });

  await t.test('replace-member.sh finishes a replacement that stopped after member add', async () => {
    const id = (member: string) => cluster.etcdctl('etcdctl_cluster', 'member list -w simple').stdout.split('\n').find((l) => l.includes(`, ${member}, `))?.split(',')[0];
    const m1 = id('m1');
    assert.ok(m1);
    // etcd refuses membership changes for a few seconds after peers (re)connect: retry, as the runbooks do.
    const retried = async (args: string) => {
      let r = cluster.etcdctl('etcdctl_m2', args);
      for (let i = 0; i < 20 && r.status !== 0; i++) {
        await sleep(1000);
        r = cluster.etcdctl('etcdctl_m2', args);
      }
      assert.equal(r.status, 0, `${args}: ${r.stderr}`);
    };
    await retried(`member remove ${m1}`);
    await retried('member add m1 --peer-urls=https://127.0.0.1:2380 --learner');
    assert.deepEqual(memberList(cluster), ['started m2', 'started m3', 'unstarted  learner']);
    const r = runbook('replace-member.sh', ['m1', '--yes']);
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    assert.match(r.stderr, /added but never started/);
    assert.deepEqual(memberList(cluster), ['started m1', 'started m2', 'started m3']);
    assert.equal(await localValue(cluster, 'etcdctl_m1', '/rb/after-replace', 'three'), 'three');
  });

  await t.test('plan, add-member.sh and remove-member.sh grow the cluster to 4 and shrink it back', async () => {
    rewriteNodes(cluster, ['m1', 'm2', 'm3', 'm4']);
    const plan = runCli(['plan', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });
    assert.equal(plan.status, 1, plan.stderr);
    assert.match(plan.stdout, /runbooks\/add-member\.sh m4/);
    const grown = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });
    assert.equal(grown.status, 0, grown.stderr);
    assert.match(grown.stderr, /the membership changed[^\n]*\n[\s\S]*1\. runbooks\/add-member\.sh m4\n/, 'the build says what to run');
    cluster.deploy('m4');
    const added = runbook('add-member.sh', ['m4', '--yes']);
    assert.equal(added.status, 0, `${added.stderr}\n${logs()}`);
    assert.deepEqual(memberList(cluster), ['started m1', 'started m2', 'started m3', 'started m4']);
    assert.equal(await localValue(cluster, 'etcdctl_m4', '/rb/after-replace', 'three'), 'three', 'm4 caught up');
    assert.equal(runbook('health.sh').status, 0);
    const twice = runbook('add-member.sh', ['m4', '--yes']);
    assert.equal(twice.status, 3, twice.stderr);

    // m3 down: m4 makes the quorum of 4 with m1 and m2, but once replace-member.sh stopped it, m1 and
    // m2 alone could not commit its removal (3 of 4): refused, and m4 is left running.
    await cluster.stop('m3');
    const short = runbook('replace-member.sh', ['m4', '--yes']);
    assert.equal(short.status, 3, short.stderr);
    assert.match(short.stderr, /only 2 of the voting members other than m4 are healthy; removing it takes 3 of the 4/);
    cluster.start('m3');
    assert.ok(await cluster.waitHealthy(60_000), logs());
    assert.equal(runbook('health.sh').status, 0, 'm4 was not touched');

    const stillListed = runbook('remove-member.sh', ['m4', '--yes']);
    assert.equal(stillListed.status, 2, 'a member still in cluster.yaml is not removed');
    rewriteNodes(cluster, ['m1', 'm2', 'm3']);
    const shrink = runCli(['plan', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });
    assert.match(shrink.stdout, /runbooks\/remove-member\.sh m4/);
    assert.equal(runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir }).status, 0);
    const removed = runbook('remove-member.sh', ['m4', '--yes']);
    assert.equal(removed.status, 0, `${removed.stderr}\n${logs()}`);
    assert.deepEqual(memberList(cluster), ['started m1', 'started m2', 'started m3']);
    assert.notEqual(run('pgrep', ['-u', String(cluster.uid('m4'))]).status, 0, 'etcd is stopped on m4');
    assert.ok(readdirSync(path.join(cluster.dir, 'var-m4')).some((d) => d.startsWith('etcd.removed-')), 'm4 data set aside');
    assert.equal(runbook('health.sh').status, 0);
  });

  // rotate-certs.sh for new leaf certificates under a writing client runs on booted hosts, for every
  // release (test/hosts/): over ssh and sudo, with the server and peer certificates checked as served.

  await t.test('rotate-certs.sh carries a CA rotation through its three builds, restarting members when the trusted CAs change', async () => {
    const caOf = () => fingerprint(cluster, path.join(cluster.out, 'admin', 'pki', 'ca.crt'));
    const oldCa = caOf();
    for (const step of ['trust', 'sign', 'finish']) {
      const built = runCli(['build', 'cluster.yaml', '-o', 'out', '--rotate-ca'], { cwd: cluster.dir });
      assert.equal(built.status, 0, `${step}: ${built.stderr}`);
      const r = runbook('rotate-certs.sh', ['--yes']);
      assert.equal(r.status, 0, `${step}: ${r.stderr}\n${logs()}`);
      // Trust and finish change the CA bundle, so each member restarts; sign changes only leaves.
      const restarts = (r.stderr.match(/restarting etcd: the CA bundle changed/g) ?? []).length;
      assert.equal(restarts, step === 'sign' ? 0 : 3, `${step}: ${r.stderr}`);
      await put(cluster, `/rb/ca-${step}`, step);
      assert.equal(runbook('health.sh').status, 0, step);
    }
    assert.notEqual(caOf(), oldCa, 'the bundle holds only the new CA');
    for (const m of cluster.members) {
      const leaf = path.join(cluster.out, 'nodes', m, 'root', 'etc', 'etcd', 'pki', 'server.crt');
      assert.equal(servedFingerprint(cluster, m), fingerprint(cluster, leaf), `${m} serves its leaf of the new CA`);
    }
  });

  await t.test('defrag.sh brings a cluster out of NOSPACE: health.sh reports the alarm, defrag shrinks and disarms it', async () => {
    // A 2 MiB backend quota on every member, through the unit's optional EnvironmentFile (restore.sh,
    // the next step, removes it again), one restart at a time.
    for (const m of cluster.members) {
      writeFileSync(path.join(cluster.dir, `run-${m}`, 'join.env'), 'ETCD_QUOTA_BACKEND_BYTES=2097152\n');
      await cluster.stop(m);
      cluster.start(m);
      assert.ok(await cluster.waitHealthy(60_000), logs());
    }
    // 300 kB values, from stdin: an argument that long is more than exec takes.
    const aliases = path.join(cluster.out, 'admin', 'aliases.sh');
    let full = '';
    for (let i = 0; i < 30 && !full; i++) {
      const r = cluster.ns('bash', ['-c', `. ${aliases} && head -c 300000 /dev/zero | tr '\\0' x | etcdctl_cluster put /rb/big/${i} --command-timeout=10s`]);
      if (r.status !== 0) full = r.stderr;
    }
    assert.match(full, /database space exceeded/);
    const alarmed = runbook('health.sh');
    assert.equal(alarmed.status, 1);
    assert.match(alarmed.stdout, /^  NOSPACE \(member [0-9a-f]+\)$/m);

    // Under NOSPACE etcd still takes deletes: drop the big keys, then shrink the database.
    assert.equal(cluster.etcdctl('etcdctl_cluster', 'del --prefix /rb/big/').status, 0);
    const r = runbook('defrag.sh', ['--yes']);
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    assert.match(r.stderr, /disarming the NOSPACE alarm/);
    t.diagnostic(`defrag.sh out of NOSPACE: ${(r.stderr.match(/m\d: \d+ -> \d+ bytes/g) ?? []).join('; ')}`);
    await put(cluster, '/rb/after-nospace', 'writable');
    assert.equal(runbook('health.sh').status, 0);
  });

  await t.test('restore.sh asks first; then rebuilds the whole cluster from the snapshot', async () => {
    // A member without room for the restore: refused before anything is stopped.
    const fakeBin = path.join(cluster.dir, 'full-disk');
    mkdirSync(fakeBin, { recursive: true });
    writeFileSync(path.join(fakeBin, 'df'), '#!/bin/sh\necho "Filesystem 1024-blocks Used Available Capacity Mounted on"\necho "/dev/full 100 100 0 100% /"\n', { mode: 0o755 });
    const remote = path.join(cluster.dir, 'member-shell-full');
    writeFileSync(remote, `#!/bin/sh\nif [ "$1" = ${cluster.host('m2')} ]; then exec ${path.join(cluster.dir, 'member-shell')} "$1" "PATH=${fakeBin}:\\$PATH; $2"; fi\nexec ${path.join(cluster.dir, 'member-shell')} "$@"\n`, { mode: 0o755 });
    const full = runbook('restore.sh', [snapshot, '--yes'], { env: { ETCD_GEN_REMOTE: remote } });
    assert.equal(full.status, 3, full.stderr);
    assert.match(full.stderr, /0 KiB free, \d+ KiB needed[\s\S]*m2 \(127\.0\.0\.2\) cannot take the restore in \/var\/lib\/etcd; nothing was stopped/);
    assert.equal(runbook('health.sh').status, 0, 'nothing was stopped');

    const unconfirmed = runbook('restore.sh', [snapshot]);
    assert.equal(unconfirmed.status, 4, unconfirmed.stderr);
    assert.match(unconfirmed.stderr, /kube-apiserver/);
    assert.equal(runbook('health.sh').status, 0, 'nothing was stopped');

    // Kubernetes' watches and caches must never see the revision go back: from 3.5.10 restore.sh bumps
    // it past anything written since the snapshot and marks the old revisions compacted.
    const [minor, patch] = cluster.version.split('.').slice(1).map(Number);
    const bumps = (minor ?? 0) >= 6 || (minor === 5 && (patch ?? 0) >= 10);
    const status = JSON.parse(cluster.etcdctl('etcdctl_m1', 'endpoint status -w json').stdout) as { Status: { header: { revision: number } } }[];
    const revisionBefore = status[0]?.Status.header.revision ?? 0;
    assert.ok(revisionBefore > 1, 'the revision before the restore');

    const r = runbook('restore.sh', [snapshot, '--yes']);
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    if (bumps) {
      const old = cluster.etcdctl('etcdctl_cluster', `get /rb/before-snapshot --rev=${revisionBefore}`);
      assert.notEqual(old.status, 0, 'a read at a revision from before the restore is refused');
      assert.match(old.stderr, /required revision has been compacted/, old.stderr);
      const after = JSON.parse(cluster.etcdctl('etcdctl_m1', 'endpoint status -w json').stdout) as { Status: { header: { revision: number } } }[];
      // etcdutl adds the bump (1,000,000,000) to the snapshot's revision: past every revision served before.
      assert.ok((after[0]?.Status.header.revision ?? 0) > revisionBefore && (after[0]?.Status.header.revision ?? 0) >= 1_000_000_000, `the revision moved forward by the bump: ${revisionBefore} -> ${after[0]?.Status.header.revision}`);
      // A client resuming its watch from a revision it saw before the restore (as kube-apiserver's
      // watch cache does) is told that revision is compacted, so it lists again instead of being served
      // a history that went back in time.
      // etcdctl_cluster is a shell function: the timeout wraps the shell that defines it.
      const resumed = cluster.ns('timeout', ['20', 'bash', '-c', `. ${path.join(cluster.out, 'admin', 'aliases.sh')}; etcdctl_cluster watch --prefix /rb/ --rev=${revisionBefore}`], { timeout: 30_000 });
      assert.match(resumed.stdout + resumed.stderr, /required revision has been compacted/, `the resumed watch was cancelled as compacted:\n${resumed.stdout}${resumed.stderr}`);
    }
    assert.equal(cluster.etcdctl('etcdctl_cluster', 'get /rb/before-snapshot --print-value-only').stdout.trim(), 'kept');
    for (const key of ['/rb/after-snapshot', '/rb/before-kill', '/rb/after-replace', '/rb/w/1']) {
      const g = cluster.etcdctl('etcdctl_cluster', `get ${key} --print-value-only`);
      assert.equal(g.status, 0, g.stderr);
      assert.equal(g.stdout.trim(), '', `${key}, written after the snapshot, is gone`);
    }
    for (const m of cluster.members) {
      assert.equal(await localValue(cluster, `etcdctl_${m}`, '/rb/before-snapshot', 'kept'), 'kept', `${m} was restored`);
      assert.ok(readdirSync(path.join(cluster.dir, `var-${m}`)).some((d) => d.startsWith('etcd.before-restore-')), `${m}'s old data set aside`);
    }
    assert.deepEqual(memberList(cluster), ['started m1', 'started m2', 'started m3']);
    assert.equal(runbook('health.sh').status, 0);
  });

  await t.test('an expired CA: build refuses; build --rotate-ca replaces it in one step; rotate-certs.sh --all-at-once brings the cluster back with its data', async () => {
    await put(cluster, '/rb/before-expiry', 'kept');
    // Years pass: the CA everyone trusts is now one that has expired, and every member restarts with it.
    const secrets = path.join(cluster.dir, 'secrets');
    const caPem = readFileSync(path.join(secrets, 'ca.crt'), 'utf8');
    const twin = await expiredTwin(caPem, readFileSync(path.join(secrets, 'ca.key'), 'utf8'));
    assert.equal(replacePem(secrets, caPem, twin), 1);
    assert.ok(replacePem(cluster.out, caPem, twin) >= 5, 'every ca.crt of the output');
    for (const m of cluster.members) await cluster.stop(m);
    for (const m of cluster.members) cluster.start(m);
    let refusals = '';
    for (let i = 0; i < 40 && !refusals; i++) {
      await sleep(500);
      refusals = logs(50).split('\n').filter((l) => /certificate has expired/.test(l)).join('\n');
    }
    assert.ok(refusals, `members that trust only an expired CA refuse each other:\n${logs()}`);
    assert.equal(await cluster.waitHealthy(3000), false, 'the cluster is down');

    const refused = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: cluster.dir });
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /ca\.crt:1:1: \$: the CA expired on .*--rotate-ca/);
    const replaced = runCli(['build', 'cluster.yaml', '-o', 'out', '--rotate-ca'], { cwd: cluster.dir });
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.match(replaced.stderr, /CA replaced: .*--all-at-once/);

    const rolling = runbook('rotate-certs.sh', ['--yes']);
    assert.equal(rolling.status, 3, rolling.stderr);
    assert.match(rolling.stderr, /m1 m2 m3 do not answer: only 0 of 3 members do, fewer than a quorum; .*--all-at-once/);
    const started = Date.now();
    const r = runbook('rotate-certs.sh', ['--all-at-once', '--yes']);
    assert.equal(r.status, 0, `${r.stderr}\n${logs()}`);
    t.diagnostic(`rotate-certs.sh --all-at-once: the cluster was healthy again after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(runbook('health.sh').status, 0);
    assert.equal(cluster.etcdctl('etcdctl_cluster', 'get /rb/before-expiry --print-value-only').stdout.trim(), 'kept', 'the data outlived the CA');
    for (const m of cluster.members) {
      const leaf = path.join(cluster.out, 'nodes', m, 'root', 'etc', 'etcd', 'pki', 'server.crt');
      assert.equal(servedFingerprint(cluster, m), fingerprint(cluster, leaf), `${m} serves its leaf of the new CA`);
    }
    const up = runbook('rotate-certs.sh', ['--all-at-once', '--yes']);
    assert.equal(up.status, 3, 'a cluster that is up is not restarted all at once');
    assert.match(up.stderr, /the cluster is up/);
  });
});

