/**
 * Live: a cluster built exactly as the manual procedure builds it (cfssl, RSA-4096, one shared peer and one
 * shared client certificate, member names that are DNS names, /etc/etcd.conf per host, a unit etcd3 that
 * runs etcd as root from it) is imported, built and moved to etcd-gen's layout by runbooks/takeover.sh
 * while a client keeps writing through every endpoint; then the shared certificates are revoked.
 *
 * Each host is a mount namespace (test/harness/takeover-shell.sh): /etc is an overlay of its own over the
 * machine's, so the procedure's files, the unit files and the etcd user are the host's alone. All hosts
 * share one network namespace whose /etc/hosts names them, each etcd user's connections leave from its
 * host's address (127.0.0.1-3), and etcd as root from 127.0.0.1 (which the shared certificates name).
 * One deviation from the procedure, for the shared network namespace: its unit listens on the host's
 * address, not on every interface (LISTEN_IP, from a second EnvironmentFile).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { needTools, repoRoot, run, runCli, tempDir } from '../helpers.js';
import { sleep } from '../harness/cluster.js';
import { claimUidBlock } from '../harness/uids.js';
import { etcUsersWith } from '../harness/deploy.js';
import { makeProcedureEnv } from '../harness/procedure.js';
import { testEachRelease } from '../harness/releases.js';

const harness = path.join(repoRoot, 'test', 'harness');
const NAMES = ['k8s1-etcd1.k8s.lan', 'k8s1-etcd2.k8s.lan', 'k8s1-etcd3.k8s.lan'];

/** The procedure's systemd-service.conf (installed as etcd3.service): etcd as root, from /etc/etcd.conf. */
const PROCEDURE_UNIT = `[Unit]
Description=etcd (manual procedure)
After=network-online.target

[Service]
Type=notify
EnvironmentFile=/etc/etcd.conf
# Test only: the hosts share one network namespace, so each listens on its own address.
EnvironmentFile=/etc/etcd-listen.conf
ExecStart=/usr/local/bin/etcd \\
  --name=\${NODE_NAME} \\
  --data-dir=/var/lib/etcd \\
  --cert-file=/etc/etcd/pki/etcd-client.pem \\
  --key-file=/etc/etcd/pki/etcd-client-key.pem \\
  --peer-cert-file=/etc/etcd/pki/etcd-peer.pem \\
  --peer-key-file=/etc/etcd/pki/etcd-peer-key.pem \\
  --trusted-ca-file=/etc/etcd/pki/ca.pem \\
  --peer-trusted-ca-file=/etc/etcd/pki/ca.pem \\
  --client-cert-auth \\
  --peer-client-cert-auth \\
  --initial-advertise-peer-urls=\${NODE_ADDRESS} \\
  --listen-peer-urls=https://\${LISTEN_IP}:\${PEERS_PORT} \\
  --listen-client-urls=https://\${LISTEN_IP}:\${CLIENT_PORT} \\
  --advertise-client-urls=https://\${NODE_NAME}:\${CLIENT_PORT} \\
  --initial-cluster-token=\${CLUSTER_TOKEN} \\
  --initial-cluster=\${CLUSTER_NODES} \\
  --initial-cluster-state=new
Restart=always

[Install]
WantedBy=multi-user.target
`;

// The issue asks for etcd 3.5, the line the procedure's clusters run: the newest 3.5 of the matrix.
testEachRelease('takeover, live', '3.5', { timeout: 1_500_000 }, async (t, release) => {
  if (!needTools(t, ['etcd', 'etcdctl', 'cfssl', 'cfssljson', 'openssl', 'curl', 'ip', 'unshare', 'setpriv', 'mount', 'bash'], { root: true })) return;
  // The release's binaries first on PATH, for every etcd and etcdctl of this test, the runbooks' too.
  const pathEnv = { PATH: release ? `${release.bin}:${process.env.PATH ?? ''}` : (process.env.PATH ?? '') };
  const version = /etcd Version: (\d+\.\d+\.\d+)/.exec(run('etcd', ['--version'], { env: pathEnv }).stdout)?.[1] ?? '';
  assert.ok(version, 'etcd --version names its version');
  // The real directory (a release cache may hold relative symlinks, which an overlay would not resolve).
  const etcdBin = path.dirname(realpathSync(run('sh', ['-c', 'command -v etcd'], { env: pathEnv }).stdout.trim()));
  const dir = tempDir(t, 'etcd-gen-takeover-');
  const env = makeProcedureEnv(dir, NAMES.map((n) => ({ name: n, host: n })), { keyBits: 4096 });

  // ---- the hosts, and their network ------------------------------------------------------------------
  // Users and routing tables of this test's own, apart from the loopback clusters' (40000 to 72000).
  const uids = claimUidBlock(80000, 4, 1000, process.pid % 1000);
  const base = uids.base;
  const uidOf = (i: number) => base + i;
  const netns = `etcd-gen-takeover-${process.pid}`;
  assert.equal(run('ip', ['netns', 'add', netns]).status, 0);
  const netnsEtc = path.join('/etc/netns', netns);
  mkdirSync(netnsEtc, { recursive: true });
  const hostsFile = path.join(netnsEtc, 'hosts');
  writeFileSync(hostsFile, `127.0.0.1 localhost\n${NAMES.map((n, i) => `127.0.0.${i + 1} ${n}`).join('\n')}\n`);
  const pidsOf = (i: number) => path.join(dir, `run-${i}`, '.units');
  t.after(async () => {
    for (let i = 0; i < NAMES.length; i++) {
      for (const unit of ['etcd', 'etcd3']) {
        const pidFile = path.join(pidsOf(i), `${unit}.pid`);
        if (existsSync(pidFile)) run('kill', ['-KILL', readFileSync(pidFile, 'utf8').trim()]);
      }
    }
    await sleep(300);
    run('ip', ['netns', 'del', netns]);
    rmSync(netnsEtc, { recursive: true, force: true });
    uids.release();
  });
  const ns = (cmd: string, args: string[], o: { timeout?: number; env?: NodeJS.ProcessEnv } = {}) =>
    run('ip', ['netns', 'exec', netns, cmd, ...args], { timeout: 60_000, ...o, env: { ...pathEnv, ...o.env } });
  const routes = ns('sh', [
    '-ec',
    ['ip link set lo up', 'ip rule add pref 100 lookup local', 'ip rule del pref 0 lookup local', ...NAMES.map((_, i) => `ip route add local 127.0.0.0/8 dev lo src 127.0.0.${i + 1} table ${uidOf(i)} && ip rule add pref 10 uidrange ${uidOf(i)}-${uidOf(i)} lookup ${uidOf(i)}`)].join('\n'),
  ]);
  assert.equal(routes.status, 0, routes.stderr);

  // Each host as the procedure leaves it: /etc/etcd.conf, /etc/etcd/pki/ with the shared files, the unit.
  // The etcd user exists already, with a uid of this test's (its connections leave from its host's
  // address), and is the host's only etcd user: the machine may have one of its own (Debian's
  // etcd-server package makes etcd uid 102), which a second line would not override, since a lookup by
  // name takes the first.
  const table = NAMES.map((name, i) => {
    const upper = path.join(dir, `etc-${i}`);
    for (const d of ['etcd/pki', 'systemd/system']) mkdirSync(path.join(upper, d), { recursive: true });
    for (const d of [`work-${i}`, `var-${i}`, `run-${i}`]) mkdirSync(path.join(dir, d), { recursive: true });
    copyFileSync(path.join(env, `${name}.conf`), path.join(upper, 'etcd.conf'));
    writeFileSync(path.join(upper, 'etcd-listen.conf'), `LISTEN_IP=127.0.0.${i + 1}\n`);
    for (const f of ['ca.pem', 'etcd-peer.pem', 'etcd-peer-key.pem', 'etcd-client.pem', 'etcd-client-key.pem']) copyFileSync(path.join(env, f), path.join(upper, 'etcd', 'pki', f));
    writeFileSync(path.join(upper, 'systemd', 'system', 'etcd3.service'), PROCEDURE_UNIT);
    const users = etcUsersWith(uidOf(i), mkdtempSync(path.join(dir, `users-${i}-`)));
    copyFileSync(users.passwd, path.join(upper, 'passwd'));
    copyFileSync(users.group, path.join(upper, 'group'));
    return [`127.0.0.${i + 1}`, name, path.join(dir, `log-${i}`), upper, path.join(dir, `work-${i}`), path.join(dir, `var-${i}`), path.join(dir, `run-${i}`), etcdBin, hostsFile].join('\t');
  });
  const tableFile = path.join(dir, 'hosts.tsv');
  writeFileSync(tableFile, `${table.join('\n')}\n`);
  const shell = path.join(dir, 'remote');
  writeFileSync(shell, `#!/bin/sh\nexec bash ${path.join(harness, 'takeover-shell.sh')} ${tableFile} ${path.join(harness, 'units.sh')} "$@"\n`, { mode: 0o755 });
  const onHost = (i: number, command: string) => ns(shell, [`127.0.0.${i + 1}`, command]);
  const logs = () => NAMES.map((_, i) => ['etcd3', 'etcd'].map((u) => path.join(dir, `log-${i}-${u}.log`)).filter(existsSync).map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').filter((l) => !/probing_status|cluster_util/.test(l)).slice(-25).join('\n')}`).join('\n')).join('\n');

  // The procedure's "Enable cluster" step, on every host.
  for (let i = 0; i < NAMES.length; i++) {
    const up = onHost(i, 'systemctl daemon-reload && systemctl enable etcd3 && systemctl restart etcd3');
    assert.equal(up.status, 0, up.stderr);
  }
  const endpoints = NAMES.map((n) => `https://${n}:2379`).join(',');
  const procedureCtl = (args: string[]) =>
    ns('etcdctl', [`--endpoints=${endpoints}`, `--cacert=${path.join(env, 'ca.pem')}`, `--cert=${path.join(env, 'etcd-client.pem')}`, `--key=${path.join(env, 'etcd-client-key.pem')}`, ...args]);
  const waitFor = async (check: () => boolean, what: string, ms = 60_000) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (check()) return;
      await sleep(500);
    }
    assert.fail(`${what}\n${logs()}`);
  };
  await waitFor(() => procedureCtl(['endpoint', 'health']).status === 0, 'the procedure cluster became healthy');
  const before = 200;
  const put = ns('bash', ['-c', `set -e; for i in $(seq 1 ${before}); do etcdctl --endpoints=${endpoints} --cacert=${env}/ca.pem --cert=${env}/etcd-client.pem --key=${env}/etcd-client-key.pem put /before/$i v$i >/dev/null; done`], { timeout: 300_000 });
  assert.equal(put.status, 0, put.stderr);

  // ---- import and build -------------------------------------------------------------------------------
  const members = procedureCtl(['member', 'list', '-w', 'json']);
  assert.equal(members.status, 0, members.stderr);
  writeFileSync(path.join(dir, 'members.json'), members.stdout);
  const imported = runCli(['import', env, '--etcd-version', version, '--member-list', path.join(dir, 'members.json'), '-o', path.join(dir, 'cluster.yaml')]);
  assert.equal(imported.status, 0, imported.stderr);
  // What the import says to do for members with DNS names: bind each to its address (here: required,
  // since the hosts share one network namespace).
  const yaml = readFileSync(path.join(dir, 'cluster.yaml'), 'utf8');
  writeFileSync(path.join(dir, 'cluster.yaml'), NAMES.reduce((text, n, i) => text.replace(`    host: "${n}"\n`, `    host: "${n}"\n    ip: 127.0.0.${i + 1}\n`), yaml));
  const built = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
  assert.equal(built.status, 0, built.stderr);
  const out = path.join(dir, 'out');
  const runbookEnv = { ETCD_GEN_REMOTE: shell, ETCD_GEN_WAIT: '60' };
  const revokeShared = ['--revoke', path.join(env, 'etcd-client.pem'), path.join(env, 'etcd-peer.pem')];

  // ---- revoking the shared certificates before the move is refused -----------------------------------
  // At build: import recorded them, and takeover.sh has not recorded the move (out/takeover.json).
  assert.ok(existsSync(path.join(dir, 'secrets', 'procedure-certs.json')), 'import records the shared certificates');
  const early = runCli(['build', 'cluster.yaml', '-o', 'out', ...revokeShared], { cwd: dir });
  assert.notEqual(early.status, 0, 'build --revoke of a shared certificate before the move is refused');
  assert.match(early.stderr, /shared certificates.*out\/takeover\.json.*Run out\/runbooks\/takeover\.sh first/s);
  assert.ok(!existsSync(path.join(dir, 'secrets', 'ca.crl')) && !existsSync(path.join(out, 'nodes', NAMES[0] ?? '', 'root', 'etc', 'etcd', 'pki', 'ca.crl')), 'the refused build wrote no revocation list');
  // At the runbook, live: an output built with the revocation anyway (here: from secrets without
  // import's record) is refused by takeover.sh, which sees the members still serving the shared
  // certificates, before it touches any member.
  cpSync(path.join(dir, 'secrets'), path.join(dir, 'secrets-early'), { recursive: true });
  rmSync(path.join(dir, 'secrets-early', 'procedure-certs.json'));
  const earlyBuilt = runCli(['build', 'cluster.yaml', '-o', 'out-early', '--secrets', 'secrets-early', ...revokeShared], { cwd: dir });
  assert.equal(earlyBuilt.status, 0, earlyBuilt.stderr);
  const earlyRun = ns('bash', [path.join(dir, 'out-early', 'runbooks', 'takeover.sh'), '--yes'], { timeout: 300_000, env: runbookEnv });
  assert.equal(earlyRun.status, 3, `takeover.sh with a list that revokes what members serve: ${earlyRun.stderr}`);
  for (const n of NAMES) assert.match(earlyRun.stderr, new RegExp(`${n.replace(/\./g, '\\.')} on ${n.replace(/\./g, '\\.')}:2379 \\(serial`), earlyRun.stderr);
  assert.match(earlyRun.stderr, /nothing was changed\. Move them first with runbooks\/takeover\.sh of a build without this revocation/);
  for (let i = 0; i < NAMES.length; i++) assert.ok(existsSync(path.join(pidsOf(i), 'etcd3.pid')) && !existsSync(path.join(pidsOf(i), 'etcd.pid')), `${NAMES[i]} still runs etcd3 only`);

  // An interrupted earlier run: host 3's old unit was stopped, and nothing else happened.
  assert.equal(onHost(2, 'systemctl stop etcd3').status, 0);
  await waitFor(() => procedureCtl(['--command-timeout=5s', 'put', '/before/0', 'with host 3 down']).status === 0, 'two members serve');

  // ---- the move, with a client writing through every endpoint ----------------------------------------
  const writer = (prefix: string, cert: string, key: string, ca: string) => {
    const stopFile = path.join(dir, `stop-${prefix.replace(/\W/g, '_')}`);
    const child = spawn('ip', ['netns', 'exec', netns, 'bash', '-c', `i=0; while [ ! -e ${stopFile} ] && [ -d ${path.dirname(stopFile)} ]; do i=$((i+1)); if err=$(etcdctl --endpoints=${endpoints} --cacert=${ca} --cert=${cert} --key=${key} --command-timeout=5s put ${prefix}$i $i 2>&1 >/dev/null); then echo "ok $i"; else echo "FAILED $i at $(date +%T.%N | cut -c1-12): $(tail -n 1 <<<"$err")"; fi; done`], { env: { ...process.env, ...pathEnv } });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    const done = new Promise((resolve) => child.on('close', resolve));
    return {
      async stop(): Promise<string[]> {
        writeFileSync(stopFile, '');
        await done;
        return text.trim().split('\n').filter(Boolean);
      },
    };
  };
  const during = writer('/during/', path.join(env, 'etcd-client.pem'), path.join(env, 'etcd-client-key.pem'), path.join(env, 'ca.pem'));
  await sleep(1000);
  // The runbook's lines with the time, to place any failed write.
  const timed = (args: string[]) => ns('bash', ['-c', `bash "$@" 2>&1 | while IFS= read -r l; do printf '%s %s\n' "$(date +%T.%N | cut -c1-12)" "$l"; done; exit "\${PIPESTATUS[0]}"`, 'takeover', ...args], { timeout: 600_000, env: runbookEnv });
  const moved = timed([path.join(out, 'runbooks', 'takeover.sh'), '--yes']);
  const lines = await during.stop();
  process.stderr.write(`takeover.sh:\n${moved.stdout}\n`);
  assert.equal(moved.status, 0, `takeover.sh: ${moved.stdout}\n${logs()}`);
  const failed = lines.filter((l) => l.startsWith('FAILED'));
  process.stderr.write(`takeover: ${lines.length} writes during the move, ${failed.length} failed\n${failed.join('\n')}\n`);
  assert.ok(lines.length >= 20, `the writer kept writing (${lines.length} writes)`);
  // Measured, not hidden: a write that the client gave up on (5 s) while a member restarted. None may
  // fail for any other reason (a refused certificate would show here), and none acknowledged is lost.
  for (const f of failed) assert.match(f, /context deadline exceeded/, 'a write failed for a reason other than a member restarting');

  // Every key written before and during the move reads back, from every member.
  const admin = ['--cacert', path.join(out, 'admin', 'pki', 'ca.crt'), '--cert', path.join(out, 'admin', 'pki', 'admin.crt'), '--key', path.join(out, 'admin', 'pki', 'admin.key')];
  for (const n of NAMES) {
    const keys = ns('etcdctl', [`--endpoints=https://${n}:2379`, ...admin, '--consistency=s', 'get', '--prefix', '/', '--keys-only']);
    assert.equal(keys.status, 0, keys.stderr);
    const have = new Set(keys.stdout.split('\n').filter(Boolean));
    for (let i = 1; i <= before; i++) assert.ok(have.has(`/before/${i}`), `${n} has /before/${i}`);
    for (const l of lines) assert.ok(have.has(`/during/${l.split(' ')[1]}`), `${n} has /during/${l.split(' ')[1]}`);
  }

  // Every member serves its own certificate, runs as etcd under etcd.service, on the same data.
  const served = (host: string, port: number) => {
    const r = ns('sh', ['-c', `openssl s_client -connect ${host}:${port} -cert ${out}/admin/pki/admin.crt -key ${out}/admin/pki/admin.key </dev/null 2>/dev/null | openssl x509`]);
    return new X509Certificate(r.stdout).fingerprint256;
  };
  for (const [i, n] of NAMES.entries()) {
    const pki = path.join(out, 'nodes', n, 'root', 'etc', 'etcd', 'pki');
    assert.equal(served(`127.0.0.${i + 1}`, 2379), new X509Certificate(readFileSync(path.join(pki, 'server.crt'))).fingerprint256, `${n} serves its own server certificate`);
    assert.equal(served(`127.0.0.${i + 1}`, 2380), new X509Certificate(readFileSync(path.join(pki, 'peer.crt'))).fingerprint256, `${n} serves its own peer certificate`);
    const pid = readFileSync(path.join(pidsOf(i), 'etcd.pid'), 'utf8').trim();
    const uidLine = /^Uid:.*$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[0] ?? '';
    assert.equal(uidLine.split(/\s+/)[1], String(uidOf(i)), `${n}: etcd runs as user etcd (uid ${uidOf(i)}), not as ${uidLine}`);
    assert.ok(!existsSync(path.join(pidsOf(i), 'etcd3.pid')) && !existsSync(path.join(pidsOf(i), 'etcd3.enabled')), `${n}: etcd3 is stopped and disabled`);
    assert.ok(existsSync(path.join(pidsOf(i), 'etcd.enabled')), `${n}: etcd.service is enabled`);
    assert.equal(statSync(path.join(dir, `var-${i}`, 'etcd', 'member')).uid, uidOf(i), `${n}: the data dir belongs to etcd`);
    assert.ok(!existsSync(path.join(dir, `run-${i}`, 'join.env')), `${n}: no longer accepts the shared peer certificate`);
  }

  const record = JSON.parse(readFileSync(path.join(out, 'takeover.json'), 'utf8')) as { moved: string[] };
  assert.deepEqual(record.moved, NAMES, 'takeover.sh recorded every member as moved');

  // ---- revocation of the procedure's shared certificates, rolled out by rotate-certs.sh --------------
  const revoked = runCli(['build', 'cluster.yaml', '-o', 'out', ...revokeShared], { cwd: dir });
  assert.equal(revoked.status, 0, revoked.stderr);
  const after = writer('/after/', path.join(out, 'admin', 'pki', 'admin.crt'), path.join(out, 'admin', 'pki', 'admin.key'), path.join(out, 'admin', 'pki', 'ca.crt'));
  await sleep(1000);
  const started = Date.now();
  const rolled = timed([path.join(out, 'runbooks', 'rotate-certs.sh'), '--yes']);
  const rollSeconds = (Date.now() - started) / 1000;
  const afterLines = await after.stop();
  process.stderr.write(`rotate-certs.sh:\n${rolled.stdout}\n`);
  assert.equal(rolled.status, 0, `rotate-certs.sh after the revocation: ${rolled.stdout}\n${logs()}`);
  assert.ok(afterLines.length >= 10, `the writer kept writing through the roll-out (${afterLines.length} writes)`);
  const afterFailed = afterLines.filter((l) => l.startsWith('FAILED'));
  process.stderr.write(`revocation roll-out: ${afterLines.length} writes in ${rollSeconds.toFixed(0)} s, ${afterFailed.length} failed\n${afterFailed.join('\n')}\n`);
  for (const f of afterFailed) assert.match(f, /context deadline exceeded/, 'a write failed for a reason other than a member restarting');
  for (const n of NAMES) {
    const keys = ns('etcdctl', [`--endpoints=https://${n}:2379`, ...admin, '--consistency=s', 'get', '--prefix', '/after/', '--keys-only']);
    const have = new Set(keys.stdout.split('\n').filter(Boolean));
    for (const l of afterLines) if (l.startsWith('ok ')) assert.ok(have.has(`/after/${l.split(' ')[1]}`), `${n} has /after/${l.split(' ')[1]}`);
  }

  // The shared client certificate: etcdctl with it is refused by every member, for the revocation.
  const logText = (i: number) => (existsSync(path.join(dir, `log-${i}-etcd.log`)) ? readFileSync(path.join(dir, `log-${i}-etcd.log`), 'utf8') : '');
  // As etcd prints a revoked serial: %x of its big-endian bytes (whole bytes, no 00 in front).
  const serialOf = (file: string) => {
    let hex = new X509Certificate(readFileSync(file)).serialNumber.toLowerCase();
    if (hex.length % 2 === 1) hex = `0${hex}`;
    while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
    return hex;
  };
  const rejections = (i: number) => logText(i).split('\n').filter((l) => /rejected connection/.test(l)).slice(-4).join('\n');
  for (const [i, n] of NAMES.entries()) {
    const shared = ns('etcdctl', [`--endpoints=https://${n}:2379`, `--cacert=${path.join(env, 'ca.pem')}`, `--cert=${path.join(env, 'etcd-client.pem')}`, `--key=${path.join(env, 'etcd-client-key.pem')}`, '--dial-timeout=3s', '--command-timeout=5s', 'get', '/before/1']);
    assert.notEqual(shared.status, 0, `${n} refuses the shared client certificate`);
    assert.match(logText(i), new RegExp(`certificate serial ${serialOf(path.join(env, 'etcd-client.pem'))} revoked`), `${n} says the shared client certificate is revoked: ${shared.stderr}\n${rejections(i)}`);
  }
  // The shared peer certificate, on a peer URL: a handshake and GET /version, from 127.0.0.1 (an address
  // it names). A member's own peer certificate from the same address is answered.
  const peerGet = (cert: string, key: string) =>
    ns('sh', ['-c', `printf 'GET /version HTTP/1.0\\r\\n\\r\\n' | timeout 10 openssl s_client -quiet -ign_eof -connect ${NAMES[1]}:2380 -cert "$1" -key "$2" -CAfile "$3" 2>&1`, 'peer', cert, key, path.join(env, 'ca.pem')]);
  const ownPeer = path.join(out, 'nodes', NAMES[0] ?? '', 'root', 'etc', 'etcd', 'pki');
  const sharedPeerCert = [path.join(env, 'etcd-peer.pem'), path.join(env, 'etcd-peer-key.pem')] as const;
  assert.match(peerGet(path.join(ownPeer, 'peer.crt'), path.join(ownPeer, 'peer.key')).stdout, /"etcdserver"/, "a member's own peer certificate is answered on the peer port");
  // etcd 3.4 logs every refused handshake as "rejected connection"; from 3.5 on it names the endpoint.
  // Only what the member logged after each attempt is read, so a line is that attempt's.
  const onPeer = /^3\.4\./.test(release?.version ?? '') ? 'rejected connection"' : 'rejected connection on peer endpoint';
  const loggedSince = (i: number, from: number, pattern: RegExp, what: string) => waitFor(() => pattern.test(logText(i).slice(from)), what, 10_000);
  const beforeShared = logText(1).length;
  const sharedPeer = peerGet(...sharedPeerCert);
  assert.doesNotMatch(sharedPeer.stdout, /"etcdserver"/, `the shared peer certificate is refused on the peer port: ${sharedPeer.stdout}`);
  // Our etcd.conf pins the peer CN (ETCD_PEER_CERT_ALLOWED_CN), which the shared certificate lacks: that
  // refuses it in the handshake, before the list is read (3.4 to 3.7 alike). takeover.sh lifts the pin
  // while members move (the join env file); with it lifted on one member, the list alone refuses it.
  await loggedSince(1, beforeShared, new RegExp(`${onPeer}.*client certificate authentication failed`), `the CN pin refuses it first: ${rejections(1)}`);
  const restartOn = async (i: number, command: string) => {
    assert.equal(onHost(i, `${command} && systemctl restart etcd`).status, 0);
    await waitFor(() => ns('etcdctl', [`--endpoints=https://${NAMES[i]}:2379`, ...admin, 'endpoint', 'health']).status === 0, `${NAMES[i]} is healthy after its restart`);
  };
  await restartOn(1, "printf 'ETCD_PEER_CERT_ALLOWED_CN=\\n' >/run/etcd-gen/join.env");
  const beforeUnpinned = logText(1).length;
  const unpinned = peerGet(...sharedPeerCert);
  assert.doesNotMatch(unpinned.stdout, /"etcdserver"/, `the shared peer certificate is refused with the CN pin lifted: ${unpinned.stdout}`);
  const peerSerial = serialOf(sharedPeerCert[0]);
  await loggedSince(1, beforeUnpinned, new RegExp(`${onPeer}.*certificate serial ${peerSerial} revoked`), `${NAMES[1]} says the shared peer certificate (serial ${peerSerial}) is revoked`);
  await restartOn(1, 'rm -f /run/etcd-gen/join.env');

  // And the cluster stays healthy.
  const health = ns('etcdctl', [`--endpoints=${endpoints}`, ...admin, 'endpoint', 'health']);
  assert.equal(health.status, 0, `${health.stdout}${health.stderr}`);

  // A rerun of takeover.sh finds nothing to do, and restarts nothing.
  const again = ns('bash', [path.join(out, 'runbooks', 'takeover.sh'), '--yes'], { timeout: 300_000, env: runbookEnv });
  assert.equal(again.status, 0, again.stderr);
  assert.equal((again.stderr.match(/: up to date/g) ?? []).length, NAMES.length, again.stderr);
  assert.doesNotMatch(again.stderr, /restarting|stopping/);
});
