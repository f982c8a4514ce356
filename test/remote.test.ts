/**
 * remote() in runbooks/lib.sh, the default path (no ETCD_GEN_REMOTE): which ssh command it runs, and that
 * the line it hands the member's login shell runs the command as root directly or through `sudo -n`.
 * ssh, id and sudo are stand-ins on PATH that record their arguments; test/hosts/ runs the real ones.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildInto, minimalCluster, run, tempDir } from './helpers.js';

test('remote(): ssh as ETCD_GEN_SSH_USER, accept-new or a strict known_hosts, sudo -n unless root; ETCD_GEN_REMOTE replaces it', async (t) => {
  const { out } = await buildInto(t, minimalCluster);
  const bin = tempDir(t);
  const log = path.join(bin, 'log');
  // ssh: records its arguments, then runs the last one with sh, as the member's login shell would.
  writeFileSync(path.join(bin, 'ssh'), `#!/bin/sh\nprintf 'ssh' >>'${log}'; for a in "$@"; do printf ' [%s]' "$a" >>'${log}'; done; echo >>'${log}'\nfor a in "$@"; do last=$a; done\nexec sh -c "$last"\n`, { mode: 0o755 });
  writeFileSync(path.join(bin, 'id'), `#!/bin/sh\necho "\${FAKE_UID:-0}"\n`, { mode: 0o755 });
  writeFileSync(path.join(bin, 'sudo'), `#!/bin/sh\necho "sudo $1" >>'${log}'\nshift\nexec "$@"\n`, { mode: 0o755 });
  const remote = (env: Record<string, string>) => {
    writeFileSync(log, '');
    const r = run('bash', ['-c', `. runbooks/lib.sh && remote 10.0.0.11 "echo 'it ran'"`], { cwd: out, env: { PATH: `${bin}:${process.env.PATH ?? ''}`, ETCDCTL_BIN: 'true', ...env } });
    return { ...r, log: readFileSync(log, 'utf8') };
  };

  let r = remote({});
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'it ran\n');
  assert.match(r.log, /^ssh \[-o\] \[BatchMode=yes\] \[-o\] \[StrictHostKeyChecking=accept-new\] \[10\.0\.0\.11\] /, 'no -l: ssh chooses the user');
  assert.doesNotMatch(r.log, /^sudo/m, 'root needs no sudo');

  r = remote({ ETCD_GEN_SSH_USER: 'debian', FAKE_UID: '1000', ETCD_GEN_KNOWN_HOSTS: '/srv/known hosts' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'it ran\n');
  assert.match(r.log, /^ssh \[-o\] \[BatchMode=yes\] \[-o\] \[StrictHostKeyChecking=yes\] \[-o\] \[UserKnownHostsFile=\/srv\/known hosts\] \[-l\] \[debian\] \[10\.0\.0\.11\] /);
  assert.match(r.log, /^sudo -n$/m, 'a non-root login runs the command through sudo -n');

  r = remote({ ETCD_GEN_REMOTE: `${path.join(bin, 'ssh')} -x`, ETCD_GEN_SSH_USER: 'debian', FAKE_UID: '1000' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.log, "ssh [-x] [10.0.0.11] [echo 'it ran']\n", 'ETCD_GEN_REMOTE gets the host and the command as they are');
});
