/**
 * Safety branches of the member files and runbooks that need no etcd (issue 19): the bootstrap guard run
 * on its own against directories that stand in for a member's, and runbooks driven by stand-in etcdctl,
 * ssh and systemctl answering as recorded. The live suites (test/live/safety.test.ts) run the same faults
 * against real etcd.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildInto, minimalCluster, run, tempDir } from './helpers.js';

const ROOT_PATHS = { join: '/run/etcd-gen/join.env', record: '/var/lib/etcd-gen/bootstrap.record' };

test('the unit runs the bootstrap guard before etcd and after it is ready, and requires the data dir mounted', async (t) => {
  const { out } = await buildInto(t, minimalCluster);
  const member = readdirFirst(path.join(out, 'nodes'));
  const unit = readFileSync(path.join(out, 'nodes', member, 'root', 'etc', 'systemd', 'system', 'etcd.service'), 'utf8');
  assert.match(unit, /^RequiresMountsFor=\/var\/lib\/etcd$/m);
  assert.match(unit, /^ExecStartPre=\+\/bin\/sh \/etc\/etcd\/bootstrap-guard\.sh check$/m);
  assert.match(unit, /^ExecStartPost=\+\/bin\/sh \/etc\/etcd\/bootstrap-guard\.sh record$/m);
  const guard = path.join(out, 'nodes', member, 'root', 'etc', 'etcd', 'bootstrap-guard.sh');
  assert.ok(existsSync(guard), 'the guard is one of the member files');
  assert.match(readFileSync(path.join(out, 'README.md'), 'utf8'), /chmod 0755 \/etc\/etcd\/bootstrap-guard\.sh/, 'the deploy steps install it');
  assert.match(readFileSync(path.join(out, 'nodes', member, 'user-data.yaml'), 'utf8'), /path: "\/etc\/etcd\/bootstrap-guard\.sh"/, 'user-data writes it');
});

function readdirFirst(dir: string): string {
  const r = run('ls', [dir]);
  return r.stdout.trim().split('\n')[0] ?? '';
}

test('bootstrap guard: starts with a WAL, on a join file, or on the first bootstrap of a new cluster; refuses an empty WAL dir of a member that ran here', async (t) => {
  const { out } = await buildInto(t, minimalCluster);
  const member = readdirFirst(path.join(out, 'nodes'));
  const scratch = tempDir(t);
  const data = path.join(scratch, 'data');
  const join = path.join(scratch, 'run', 'join.env');
  const record = path.join(scratch, 'lib', 'etcd-gen', 'bootstrap.record');
  // The guard as installed, with its root paths moved into the scratch directory.
  const text = readFileSync(path.join(out, 'nodes', member, 'root', 'etc', 'etcd', 'bootstrap-guard.sh'), 'utf8');
  assert.ok(text.includes(`\njoin=${ROOT_PATHS.join}\n`) && text.includes(`\nrecord=${ROOT_PATHS.record}\n`), 'the guard names the join file and the record');
  const guard = path.join(scratch, 'guard.sh');
  writeFileSync(guard, text.replace(`\njoin=${ROOT_PATHS.join}\n`, `\njoin='${join}'\n`).replace(`\nrecord=${ROOT_PATHS.record}\n`, `\nrecord='${record}'\n`));
  const fakeBin = path.join(scratch, 'bin');
  mkdirSync(fakeBin);
  const guardRun = (mode: string, state: string) =>
    run('sh', [guard, mode], { env: { PATH: process.env.PATH ?? '', ETCD_DATA_DIR: data, ETCD_NAME: member, ETCD_INITIAL_CLUSTER_STATE: state, ETCD_ADVERTISE_CLIENT_URLS: '' } });

  // A fresh file system: lost+found, an empty member/wal. First bootstrap of a new cluster: allowed.
  mkdirSync(path.join(data, 'lost+found'), { recursive: true });
  mkdirSync(path.join(data, 'member', 'wal'), { recursive: true });
  let r = guardRun('check', 'new');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /first bootstrap/);
  // A joining member with an existing state: refused without a join file, allowed with one.
  r = guardRun('check', 'existing');
  assert.equal(r.status, 78, r.stderr);
  mkdirSync(path.dirname(join), { recursive: true });
  writeFileSync(join, 'ETCD_INITIAL_CLUSTER_STATE=existing\n');
  r = guardRun('check', 'existing');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /joins a running cluster/);
  run('rm', ['-f', join]);

  // Once etcd was ready, the record: the same empty data dir is refused now, even with `new`.
  r = guardRun('record', 'new');
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(record, 'utf8'), new RegExp(`^name=${member} ClusterID=unknown MemberID=unknown time=\\d{4}-\\d\\d-\\d\\dT`));
  r = guardRun('check', 'new');
  assert.equal(r.status, 78, 'an empty WAL on a host that ran etcd is refused');
  assert.match(r.stderr, /REFUSED: .*holds no \.wal file/);
  assert.match(r.stderr, new RegExp(`runbooks/replace-member\\.sh ${member}`));
  assert.match(r.stderr, /runbooks\/snapshot\.sh .*then runbooks\/restore\.sh/);
  // A WAL file (not just any file) lets it start.
  writeFileSync(path.join(data, 'member', 'wal', 'lost.tmp'), '');
  assert.equal(guardRun('check', 'new').status, 78, 'a file that is not a .wal does not count');
  writeFileSync(path.join(data, 'member', 'wal', '0000000000000000-0000000000000000.wal'), 'x');
  r = guardRun('check', 'new');
  assert.equal(r.status, 0, r.stderr);
  // A join file after the record: a runbook rebuilds the member (replace-member.sh).
  run('rm', ['-rf', path.join(data, 'member')]);
  writeFileSync(join, 'ETCD_INITIAL_CLUSTER_STATE=existing\n');
  assert.equal(guardRun('check', 'existing').status, 0);
});

test('bounded restarts: upgrade.sh, takeover.sh and rotate-certs.sh restart etcd only through member_restart, which gives up after ETCD_GEN_WAIT', async (t) => {
  const { out } = await buildInto(t, minimalCluster);
  for (const name of ['upgrade.sh', 'takeover.sh', 'rotate-certs.sh']) {
    const text = readFileSync(path.join(out, 'runbooks', name), 'utf8');
    const unbounded = text.split('\n').filter((l) => /systemctl (restart|start)\b/.test(l) && !/--no-block|timeout /.test(l));
    assert.deepEqual(unbounded, [], `${name}: every blocking systemctl restart or start has a bound`);
    if (name !== 'takeover.sh' || /systemctl restart/.test(text)) assert.doesNotMatch(text, /systemctl restart \$\(shq "\$UNIT"\)"/, `${name}: no blocking restart of its own`);
  }
  const scratch = tempDir(t);
  // A member whose etcd never comes back: systemctl restart waits for ever.
  writeFileSync(path.join(scratch, 'systemctl'), '#!/bin/sh\n[ "$1" = restart ] && exec sleep 600\nexit 0\n', { mode: 0o755 });
  writeFileSync(path.join(scratch, 'remote'), `#!/bin/sh\nPATH=${scratch}:$PATH exec sh -c "$2"\n`, { mode: 0o755 });
  const r = run('bash', ['-c', '. runbooks/lib.sh && member_restart 10.0.0.11 "echo before >&2"'], {
    cwd: out,
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', ETCDCTL_BIN: 'true', ETCD_GEN_REMOTE: path.join(scratch, 'remote'), ETCD_GEN_WAIT: '1' },
  });
  assert.equal(r.signal, null, 'member_restart returned by itself');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^before$/m, 'the code before the restart ran on the member');
  assert.match(r.stderr, /etcd on 10\.0\.0\.11 did not come back within 1s of its restart/);
});

test('no silent exit: a command that fails under set -e names itself, its function and line, and its status; die keeps its code', async (t) => {
  const { out } = await buildInto(t, minimalCluster);
  const env = { PATH: process.env.PATH ?? '', ETCDCTL_BIN: 'true' };
  let r = run('bash', ['-c', '. runbooks/lib.sh; read_config() { cat /no/such/config; }; read_config; echo not reached'], { cwd: out, env });
  assert.equal(r.status, 1, r.stderr);
  assert.doesNotMatch(r.stdout, /not reached/);
  assert.match(r.stderr, /No such file or directory\n.*failed: `cat \/no\/such\/config` \(read_config at .*\) exited with status 1$/m);
  // A refusal inside a command substitution keeps its exit code (3), and says why once.
  r = run('bash', ['-c', '. runbooks/lib.sh; x=$(die "$EXIT_REFUSED" "no quorum"); echo "$x"'], { cwd: out, env });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /no quorum/);
  // What a condition tests is no failure: healthy() failing inside count_healthy's subshells says nothing.
  r = run('bash', ['-c', '. runbooks/lib.sh; n=$(count_healthy https://127.0.0.1:1 https://127.0.0.1:2); echo "$n"'], { cwd: out, env: { ...env, ETCDCTL_BIN: 'false' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '0');
  assert.equal(r.stderr, '');
  assert.match(readFileSync(path.join(out, 'runbooks', 'lib.sh'), 'utf8'), /BASH_VERSINFO\[0\]\}" -eq 4 \] && \[ "\$\{BASH_VERSINFO\[1\]\}" -lt 4/, 'bash 4.4 or later is checked');
});
