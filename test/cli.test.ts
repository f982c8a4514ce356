import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { minimalCluster, readTree, runCli, tempDir } from './helpers.js';

describe('etcd-gen CLI', () => {
  it('builds, then rebuilds writing nothing', (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    const first = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /etcd-gen: issued ca\n/);
    assert.match(first.stderr, /cluster test \(3 members, etcd 3\.5\.13\) -> out: 31 written, 0 unchanged, 0 removed/);
    assert.ok(existsSync(path.join(dir, 'secrets', 'ca.key')), 'secrets/ beside cluster.yaml by default');
    const second = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /-> out: 0 written, 31 unchanged, 0 removed/);
    assert.doesNotMatch(second.stderr, /issued/);
  });

  it('takes --secrets for keys kept elsewhere', (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    const r = runCli(['build', 'cluster.yaml', '-o', 'out', '--secrets', 'vault'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(path.join(dir, 'vault', 'ca.key')));
    assert.ok(!existsSync(path.join(dir, 'secrets')));
  });

  it('refuses bad input with exit 2, FILE:LINE:COL messages for every problem, no stack trace, nothing on disk', (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster.replace('name: etcd2', 'name: etcd1').replace('10.0.0.13', '"10.0.0.13; reboot"'));
    const r = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^cluster\.yaml:5:13: \$\.nodes\[1\]\.name: node name "etcd1" is already used on line 4: names must be unique$/);
    assert.match(lines[1] ?? '', /^cluster\.yaml:6:26: \$\.nodes\[2\]\.host: invalid value: use a DNS name/);
    assert.equal(lines[2], 'etcd-gen: 2 errors; nothing was written');
    assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/, 'no stack trace');
    assert.deepEqual(readdirSync(dir), ['cluster.yaml']);
  });

  it('refuses a missing file and a YAML error the same way', (t) => {
    const dir = tempDir(t);
    const missing = runCli(['build', 'nope.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^nope\.yaml:1:1: \$: cannot read the file \(ENOENT\)/);
    writeFileSync(path.join(dir, 'cluster.yaml'), 'name: [unclosed\n');
    const broken = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /^cluster\.yaml:2:1: \$: YAML syntax error/);
    assert.deepEqual(readdirSync(dir), ['cluster.yaml']);
  });

  it('leaves an existing output untouched when the input turns bad', (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    assert.equal(runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir }).status, 0);
    const before = readTree(dir);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster.replace('3.5.13', '9.9.9'));
    const r = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(r.status, 2);
    const after = readTree(dir);
    after.delete('cluster.yaml');
    before.delete('cluster.yaml');
    assert.deepEqual(after, before);
  });

  it('never prints a private key, nor writes one outside a key file, when issuing and reissuing', (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    const logs = [runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir })];
    // A changed name list reissues the server certificates, with reasons in the log.
    writeFileSync(path.join(dir, 'cluster.yaml'), `${minimalCluster}tls: { extraSANs: [lb.lan] }\n`);
    logs.push(runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir }));
    assert.match(logs[1]?.stderr ?? '', /reissued nodes\/etcd1\/server/);
    const tree = readTree(dir);
    const keyFiles = [...tree].filter(([file]) => file.endsWith('.key'));
    assert.ok(keyFiles.length >= 10, 'keys in out/ and in secrets/');
    const bodies = keyFiles.map(([, f]) => f.contents.split('\n').slice(1, -2).join('\n'));
    const others: [string, string][] = [
      ...logs.flatMap((r, i): [string, string][] => [[`build ${i} stdout`, r.stdout], [`build ${i} stderr`, r.stderr]]),
      ...[...tree].filter(([file]) => !file.endsWith('.key')).map(([file, f]): [string, string] => [file, f.contents]),
    ];
    for (const [where, text] of others) {
      assert.doesNotMatch(text, /PRIVATE KEY/, where);
      for (const body of bodies) assert.ok(!text.includes(body.slice(0, 40)), `${where} holds key material`);
    }
  });

  it('answers --help, --version, and a mistyped command with a suggestion and exit 2', () => {
    const help = runCli(['build', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--secrets/);
    assert.match(help.stdout, /Examples:/);
    const version = runCli(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const typo = runCli(['biuld', 'cluster.yaml']);
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /Did you mean build\?/);
    const none = runCli([]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /Name a command/);
  });
});
