import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, statSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { minimalCluster, readTree, runCli, runInProcess, tempDir } from './helpers.js';

describe('etcd-gen CLI', () => {
  it('builds, then rebuilds writing nothing', (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    const first = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /etcd-gen: issued ca\n/);
    // Every file in out/ was written; the count leaves out manifest.json, which lists them.
    const total = readTree(path.join(dir, 'out')).size - 1;
    assert.match(first.stderr, new RegExp(`cluster test \\(3 members, etcd 3\\.5\\.13\\) -> out: ${total} written, 0 unchanged, 0 removed`));
    assert.ok(existsSync(path.join(dir, 'secrets', 'ca.key')), 'secrets/ beside cluster.yaml by default');
    const second = runCli(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`-> out: 0 written, ${total} unchanged, 0 removed`));
    assert.doesNotMatch(second.stderr, /issued/);
  });

  it('refuses to write or remove through a symbolic link in the output, and touches nothing outside it', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    assert.equal((await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir })).status, 0);
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(path.join(elsewhere, 'aliases.sh'), 'not etcd-gen\n');
    rmSync(path.join(dir, 'out', 'admin'), { recursive: true });
    symlinkSync(elsewhere, path.join(dir, 'out', 'admin'));
    const r = await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^out\/admin:1:1: \$: is a symbolic link: .*remove the link/m);
    assert.deepEqual(readdirSync(elsewhere), ['aliases.sh']);
    assert.equal(readFileSync(path.join(elsewhere, 'aliases.sh'), 'utf8'), 'not etcd-gen\n');
  });

  it('warns when the secrets directory lets others in, and keeps its mode', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    const first = await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.doesNotMatch(first.stderr, /secrets directory is mode/, 'a directory etcd-gen made is 0700');
    chmodSync(path.join(dir, 'secrets'), 0o755);
    const r = await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^secrets:1:1: warning: \$: the secrets directory is mode 0755: others may reach the CA key; chmod 700 it$/m);
    assert.equal(statSync(path.join(dir, 'secrets')).mode & 0o777, 0o755);
  });

  it('takes --secrets for keys kept elsewhere', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    const r = await runInProcess(['build', 'cluster.yaml', '-o', 'out', '--secrets', 'vault'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(path.join(dir, 'vault', 'ca.key')));
    assert.ok(!existsSync(path.join(dir, 'secrets')));
  });

  it('refuses bad input with exit 2, FILE:LINE:COL messages for every problem, no stack trace, nothing on disk', async (t) => {
    const dir = tempDir(t);
    // 3.5.36: a release without known issues, so only the input's problems are printed.
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster.replace('"3.5.13"', '"3.5.36"').replace('name: etcd2', 'name: etcd1').replace('10.0.0.13', '"10.0.0.13; reboot"'));
    const r = await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^cluster\.yaml:5:13: \$\.nodes\[1\]\.name: node name "etcd1" is already used on line 4: names must be unique$/);
    assert.match(lines[1] ?? '', /^cluster\.yaml:6:26: \$\.nodes\[2\]\.host: invalid value: use a DNS name/);
    assert.equal(lines[2], 'etcd-gen: 2 errors; nothing was written');
    assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/, 'no stack trace');
    assert.deepEqual(readdirSync(dir), ['cluster.yaml']);
  });

  it('refuses a missing file and a YAML error the same way', async (t) => {
    const dir = tempDir(t);
    const missing = await runInProcess(['build', 'nope.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^nope\.yaml:1:1: \$: cannot read the file \(ENOENT\)/);
    writeFileSync(path.join(dir, 'cluster.yaml'), 'name: [unclosed\n');
    const broken = await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /^cluster\.yaml:2:1: \$: YAML syntax error/);
    assert.deepEqual(readdirSync(dir), ['cluster.yaml']);
  });

  it('leaves an existing output untouched when the input turns bad', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    assert.equal((await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir })).status, 0);
    const before = readTree(dir);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster.replace('3.5.13', '9.9.9'));
    const r = await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(r.status, 2);
    const after = readTree(dir);
    after.delete('cluster.yaml');
    before.delete('cluster.yaml');
    assert.deepEqual(after, before);
  });

  it('never prints a private key, nor writes one outside a key file, when issuing and reissuing', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    const logs = [await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir })];
    // A changed name list reissues the server certificates, with reasons in the log.
    writeFileSync(path.join(dir, 'cluster.yaml'), `${minimalCluster}tls: { extraSANs: [lb.lan] }\n`);
    logs.push(await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir }));
    assert.match(logs[1]?.stderr ?? '', /reissued nodes\/etcd1\/server/);
    const tree = readTree(dir);
    const keyFiles = [...tree].filter(([file]) => file.endsWith('.key'));
    assert.ok(keyFiles.length >= 10, 'keys in out/ and in secrets/');
    const bodies = keyFiles.map(([, f]) => f.contents.split('\n').slice(1, -2).join('\n'));
    const others: [string, string][] = [
      ...logs.flatMap((r, i): [string, string][] => [[`build ${i} stdout`, r.stdout], [`build ${i} stderr`, r.stderr]]),
      // user-data embeds its member's keys by design (mode 0600, ignored by out/.gitignore): see test/cloudinit.test.ts.
      ...[...tree].filter(([file]) => !file.endsWith('.key') && !file.endsWith('/user-data.yaml')).map(([file, f]): [string, string] => [file, f.contents]),
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
    // Every command shows examples, and help wraps between words, never inside one, off a terminal too.
    for (const command of [[], ['certs'], ['plan'], ['init'], ['explain'], ['schema']]) {
      const text = runCli([...command, '--help']).stdout;
      assert.match(text, /\nExamples:\n/, `${command.join(' ') || 'etcd-gen'} --help`);
    }
    const top = runCli(['--help']).stdout;
    assert.match(top, /PKI, configs, systemd units and admin tools/);
    assert.match(top, /asks on a\s+terminal/);
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

describe('examples/ci workflow', () => {
  it('runs its etcd-gen commands as written, each passing on an up-to-date project', async (t) => {
    const { load } = await import('js-yaml');
    const { readFileSync } = await import('node:fs');
    const { examplesDir } = await import('./helpers.js');
    const workflow = load(readFileSync(path.join(examplesDir, 'ci', 'etcd-gen.yml'), 'utf8')) as {
      jobs: Record<string, { steps: { run?: string }[] }>;
    };
    const commands = Object.values(workflow.jobs)
      .flatMap((job) => job.steps.map((s) => s.run ?? ''))
      .flatMap((run) => run.split('\n'))
      .filter((line) => line.includes('$ETCD_GEN '))
      .map((line) => line.replace(/.*\$ETCD_GEN /, '').replace(/ \|\|.*$/, '').trim().split(/\s+/));
    assert.deepEqual(commands.map((c) => c[0]), ['build', 'certs', 'plan']);
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    assert.equal((await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir })).status, 0);
    for (const command of commands) {
      // The base branch's output of the plan step is this same build here.
      const args = command.map((a) => (a === '/tmp/base/out' ? 'out' : a));
      const r = await runInProcess(args, { cwd: dir });
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});

describe('init, explain, schema, completion, --json, --quiet', () => {
  it('init writes a starter cluster.yaml that builds as is, and never overwrites one', async (t) => {
    const dir = tempDir(t);
    const r = await runInProcess(['init', '--name', 'demo', '--node', 'a=10.1.0.1', '--node', 'b=b.lan,10.1.0.2', '--node', 'c=10.1.0.3'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(path.join(dir, 'cluster.yaml'), 'utf8');
    assert.match(text, /^# yaml-language-server: \$schema=\S+cluster\.schema\.json$/m);
    assert.match(text, /host: "b\.lan"\n {4}ip: "10\.1\.0\.2"/);
    const built = await runInProcess(['build', 'cluster.yaml', '-o', 'out'], { cwd: dir });
    assert.equal(built.status, 0, built.stderr);
    const again = await runInProcess(['init'], { cwd: dir });
    assert.equal(again.status, 2);
    assert.match(again.stderr, /cluster\.yaml exists/);
    const bad = await runInProcess(['init', 'other.yaml', '--node', 'Bad_Name=10.1.0.9'], { cwd: dir });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^other\.yaml:\d+:\d+: \$\.nodes\[0\]\.name: invalid value/m);
    assert.ok(!existsSync(path.join(dir, 'other.yaml')), 'nothing written for bad answers');
  });

  it('explain reads every field from the schema, with its default', async () => {
    const one = await runInProcess(['explain', 'tls.renewBeforeDays']);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stdout, /^tls\.renewBeforeDays {2}\(integer \(0 to 3649\)\)\n.*\n {2}default: 30$/m);
    const all = await runInProcess(['explain', '--json']);
    const docs = JSON.parse(all.stdout) as { path: string; default?: unknown; required: boolean }[];
    assert.ok(docs.some((d) => d.path === 'nodes[].host' && d.required));
    assert.equal(docs.find((d) => d.path === 'ports.client')?.default, 2379);
    const typo = await runInProcess(['explain', 'nodes.hots']);
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /did you mean nodes\[\]\.host\?/);
    // A mapping is explained with every field below it.
    const tuning = await runInProcess(['explain', 'etcd.tuning']);
    assert.deepEqual(
      tuning.stdout.split('\n').filter((l) => /^etcd\./.test(l)).map((l) => l.split(' ')[0]),
      ['etcd.tuning', 'etcd.tuning.quotaBackendBytes', 'etcd.tuning.heartbeatIntervalMs', 'etcd.tuning.electionTimeoutMs', 'etcd.tuning.snapshotCount', 'etcd.tuning.maxRequestBytes'],
    );
  });

  it('schema prints the JSON Schema the build validates with', async () => {
    const { readFileSync: read } = await import('node:fs');
    const { repoRoot } = await import('./helpers.js');
    const r = await runInProcess(['schema']);
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(read(path.join(repoRoot, 'schema', 'cluster.schema.json'), 'utf8')));
  });

  it('--json reports results and problems on stdout; --quiet prints nothing on success', async (t) => {
    const dir = tempDir(t);
    const clean = minimalCluster.replace('"3.5.13"', '"3.5.36"'); // no known issue: no warning
    writeFileSync(path.join(dir, 'cluster.yaml'), clean.replace('name: etcd2', 'name: etcd1'));
    const bad = await runInProcess(['build', 'cluster.yaml', '-o', 'out', '--json'], { cwd: dir });
    assert.equal(bad.status, 2);
    const report = JSON.parse(bad.stdout) as { ok: boolean; diagnostics: { line: number; column: number; path: string; message: string }[] };
    assert.equal(report.ok, false);
    assert.deepEqual(report.diagnostics.map((d) => [d.line, d.column, d.path]), [[5, 13, '/nodes/1/name']]);
    writeFileSync(path.join(dir, 'cluster.yaml'), clean);
    const quiet = await runInProcess(['build', 'cluster.yaml', '-o', 'out', '--quiet'], { cwd: dir });
    assert.equal(quiet.status, 0);
    assert.equal(quiet.stderr, '');
    const json = await runInProcess(['build', 'cluster.yaml', '-o', 'out', '--json'], { cwd: dir });
    const result = JSON.parse(json.stdout) as { ok: boolean; written: string[]; certificates: { action: string }[] };
    assert.equal(result.ok, true);
    assert.deepEqual(result.written, []);
    assert.ok(result.certificates.every((c) => c.action === 'reused'));
    assert.doesNotMatch(json.stdout + json.stderr, /\u001b\[/, 'no colour off a terminal');
  });

  it('every failure says what went wrong, with --quiet, and as JSON with --json: usage, I/O, input', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), minimalCluster);
    writeFileSync(path.join(dir, 'a-file'), '');
    const failures: { args: string[]; kind: string | null; says: RegExp }[] = [
      { args: ['build', 'cluster.yaml', '-o', 'a-file/out'], kind: 'io', says: /cannot \w+ a-file\/out: ENOTDIR/ },
      { args: ['build', 'cluster.yaml', '-o', 'out', '--secrets', 'a-file/secrets'], kind: 'io', says: /a-file\/secrets.*ENOTDIR/ },
      { args: ['build', 'cluster.yaml', '-o', 'out', '--identity', 'no-such-identity'], kind: 'usage', says: /cannot read the age identity no-such-identity \(ENOENT\)/ },
      { args: ['build'], kind: 'usage', says: /Not enough non-option arguments/ },
      { args: ['no-such-command'], kind: 'usage', says: /Unknown argument: no-such-command/ },
      { args: ['explain', 'tls.certdayz'], kind: 'usage', says: /no field "tls\.certdayz" in cluster\.yaml: did you mean tls\.certDays\?/ },
      { args: ['build', 'no-such.yaml'], kind: null, says: /cannot read the file \(ENOENT\)/ },
    ];
    for (const f of failures) {
      const quiet = await runInProcess([...f.args, '--quiet'], { cwd: dir });
      assert.equal(quiet.status, 2, `${f.args.join(' ')} --quiet: ${quiet.stderr}`);
      assert.match(quiet.stderr, f.says, `${f.args.join(' ')} --quiet`);
      const json = await runInProcess([...f.args, '--json'], { cwd: dir });
      assert.equal(json.status, 2, `${f.args.join(' ')} --json: ${json.stderr}`);
      assert.equal(json.stderr, '', `${f.args.join(' ')} --json: nothing but JSON`);
      const report = JSON.parse(json.stdout) as { ok: boolean; error?: { kind: string; message: string }; diagnostics: { message: string }[] };
      assert.equal(report.ok, false);
      if (f.kind === null) assert.match(report.diagnostics[0]?.message ?? '', f.says);
      else {
        assert.equal(report.error?.kind, f.kind, json.stdout);
        assert.match(report.error?.message ?? '', f.says);
      }
    }
    assert.deepEqual(readdirSync(dir).sort(), ['a-file', 'cluster.yaml'], 'nothing was written');
  });

  it('completion prints a shell completion script', () => {
    const r = runCli(['completion']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /etcd-gen/);
    assert.match(r.stdout, /complete|compdef/);
  });
});
