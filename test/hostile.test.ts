/**
 * Hostile input. First layer: every cluster.yaml in test/hostile/ (its first line says
 * `# expect LINE: message fragment`), and a few generated ones too big to commit, are refused by the CLI
 * with exit 2 and a FILE:LINE:COL message at that line: no stack trace, nothing executed, nothing on disk
 * changed (not even an existing output). Second layer: values that validation refuses, forced through the
 * model and the templates anyway, still run nothing when the generated shell files are sourced.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as yaml from 'js-yaml';
import { build } from '../src/pipeline.js';
import type { ClusterConfig } from '../src/input/config.js';
import { MAX_INPUT_BYTES, parseClusterSource } from '../src/input/load.js';
import { buildModel } from '../src/model/build.js';
import type { CertPair } from '../src/pki/index.js';
import { certSpecs } from '../src/pki/profiles.js';
import { compileTemplates, renderOutput } from '../src/render/render.js';
import { readTemplates } from '../src/resources.js';
import { validateCluster } from '../src/input/validate.js';
import { cliPath, minimalCluster, needTools, repoRoot, run, runInProcess, tempDir } from './helpers.js';

const hostileDir = path.join(repoRoot, 'test', 'hostile');
/** The file every command-injection attempt in the corpus tries to create. */
const PWNED = '/tmp/etcd-gen-pwned';

interface HostileCase {
  name: string;
  source: string | Buffer;
  line: number;
  says: string;
}

function corpus(): HostileCase[] {
  return readdirSync(hostileDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const source = readFileSync(path.join(hostileDir, file));
      const expect = /^# expect (\d+): (.+)$/.exec(source.toString('utf8').split('\n')[0] ?? '');
      assert.ok(expect, `${file} starts with "# expect LINE: fragment"`);
      return { name: file, source, line: Number(expect[1]), says: expect[2] ?? '' };
    });
}

const generated: HostileCase[] = [
  { name: 'a file over the size limit', source: `# ${'x'.repeat(100)}\n`.repeat(Math.ceil((MAX_INPUT_BYTES + 1) / 103)), line: 1, says: `more than the ${MAX_INPUT_BYTES} a cluster.yaml may have` },
  { name: 'a huge value just under the size limit', source: minimalCluster.replace('name: test', `name: "${'a'.repeat(MAX_INPUT_BYTES - 200)}"`), line: 1, says: 'may have at most 40 characters' },
  {
    name: 'ten thousand members',
    source: `name: test\netcd: { version: "3.5.13" }\nnodes:\n${Array.from({ length: 10_000 }, (_, i) => `  - { name: e${i}, host: 10.1.${i >> 8}.${i & 255} }`).join('\n')}\n`,
    line: 4,
    says: 'may have at most 15 entries',
  },
];

/** Every path below dir, with its type, mode, mtime and contents' hash: any change shows. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(dir, rel))) {
      const child = path.join(rel, entry);
      const st = lstatSync(path.join(dir, child));
      const hash = st.isFile() ? createHash('sha256').update(readFileSync(path.join(dir, child))).digest('hex') : '';
      out.set(child, `${st.mode.toString(8)} ${st.mtimeMs} ${hash}`);
      if (st.isDirectory()) walk(child);
    }
  };
  walk('');
  return out;
}

const execCli = promisify(execFile);

async function runCliAsync(cwd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const r = await execCli(process.execPath, [cliPath, 'build', 'cluster.yaml', '-o', 'out'], { cwd, encoding: 'utf8', timeout: 60_000, maxBuffer: 16 << 20 });
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('hostile cluster.yaml files are refused with exit 2, at their line, changing nothing', { concurrency: 4 }, () => {
  let template = '';
  before(async () => {
    rmSync(PWNED, { force: true });
    // An earlier good build: its output and secrets must come through every hostile build untouched.
    template = path.join(os.tmpdir(), `etcd-gen-hostile-${process.pid}`);
    rmSync(template, { recursive: true, force: true });
    mkdirSync(template);
    writeFileSync(path.join(template, 'cluster.yaml'), minimalCluster);
    await build({ configFile: path.join(template, 'cluster.yaml'), outDir: path.join(template, 'out') });
  });
  after(() => rmSync(template, { recursive: true, force: true }));

  const cases = [...corpus(), ...generated];
  it('has a corpus of at least 60 files', () => assert.ok(cases.length >= 60, `${cases.length} cases`));

  // Every case runs the command line in-process (the same code as the executable, without a process
  // each); every 16th also runs the executable itself, so exit codes and stderr are those of a real process.
  cases.forEach((c, i) => {
    const viaProcess = i % 16 === 0;
    it(`${c.name}${viaProcess ? ' (executable)' : ''}`, async (t) => {
      const dir = tempDir(t, 'etcd-gen-hostile-case-');
      cpSync(template, dir, { recursive: true, preserveTimestamps: true });
      writeFileSync(path.join(dir, 'cluster.yaml'), c.source);
      const before = snapshot(dir);
      const r = viaProcess ? await runCliAsync(dir) : await runInProcess(['build', path.join(dir, 'cluster.yaml'), '-o', path.join(dir, 'out')]);
      const shown = viaProcess ? 'cluster.yaml' : path.join(dir, 'cluster.yaml');
      assert.equal(r.status, 2, `exit code\n${r.stderr}`);
      assert.equal(r.stdout, '');
      const errors = r.stderr.split('\n').filter((l) => l.startsWith(`${shown}:`) && /^:\d+:\d+: (?!warning:)/.test(l.slice(shown.length)));
      assert.ok(
        errors.some((l) => l.startsWith(`${shown}:${c.line}:`) && l.includes(c.says)),
        `an error on line ${c.line} saying "${c.says}":\n${r.stderr.slice(0, 2000)}`,
      );
      assert.match(r.stderr, /etcd-gen: \d+ errors?; nothing was written\n$/);
      assert.doesNotMatch(r.stderr, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace');
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.deepEqual(snapshot(dir), before, 'nothing on disk changed');
      assert.equal(existsSync(PWNED), false, `${PWNED} was created: something ran`);
    });
  });
});

/** Certificate pairs with placeholder PEM: enough to render, for inputs the PKI would never see. */
function placeholderPairs(model: ReturnType<typeof buildModel>): Map<string, CertPair> {
  return new Map(
    certSpecs(model).map((spec) => [
      spec.id,
      {
        spec,
        certPem: '-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n',
        keyPem: '-----BEGIN PRIVATE KEY-----\nplaceholder\n-----END PRIVATE KEY-----\n',
        action: 'issued',
        reason: '',
        notBefore: new Date(0),
        notAfter: new Date(0),
        serialNumber: '01',
        fingerprint: '',
      },
    ]),
  );
}

describe('second line of defence: values validation refuses run nothing from the generated shell files', () => {
  it('sources aliases.sh, etcdctl.env and etcd.conf built from injected values, and nothing runs', (t) => {
    if (!needTools(t, ['bash'])) return;
    const dir = tempDir(t);
    const pwned = path.join(dir, 'pwned');
    const inject = [`$(touch ${pwned})`, `\`touch ${pwned}\``, `'; touch ${pwned}; '`, `\ntouch ${pwned}\n`, `"; touch ${pwned}; "`];
    const config: ClusterConfig = {
      name: `k8s${inject[0]}${inject[3]}`,
      token: `tok${inject[1]}`,
      etcd: { version: '3.5.13' },
      nodes: [
        { name: `a${inject[0]}`, host: `a.lan${inject[1]}` },
        { name: `b${inject[3]}`, host: `b.lan${inject[2]}`, ip: `10.0.0.2${inject[4]}` },
        { name: `c${inject[2]}`, host: `c${inject[3]}.lan` },
      ],
      tls: { extraSANs: [`lb${inject[0]}`] },
      paths: { etc: `/etc/etcd${inject[0]}`, data: `/var/lib/etcd${inject[3]}`, bin: `/usr/bin${inject[2]}` },
      kubernetes: { pkiDir: `/etc/kubernetes${inject[1]}` },
    };

    // Layer one: validation refuses every injected field.
    const checked = validateCluster(parseClusterSource(yaml.dump(config), 'cluster.yaml'));
    assert.equal(checked.config, null);
    const refused = new Set(checked.diagnostics.filter((d) => d.severity === 'error').map((d) => d.pointer));
    for (const pointer of ['/name', '/token', '/nodes/0/name', '/nodes/0/host', '/nodes/1/name', '/nodes/1/host', '/nodes/1/ip', '/nodes/2/name', '/nodes/2/host', '/tls/extraSANs/0', '/paths/etc', '/paths/data', '/paths/bin', '/kubernetes/pkiDir']) {
      assert.ok(refused.has(pointer), `validation refuses ${pointer}`);
    }

    // Layer two: forced through the model and the templates, then sourced.
    const model = buildModel(config, `cluster${inject[3]}.yaml`);
    const files = renderOutput(model, placeholderPairs(model), '-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n', compileTemplates(readTemplates()));
    const file = (p: string): string => files.find((f) => f.path === p)?.contents ?? assert.fail(`no ${p}`);
    writeFileSync(path.join(dir, 'aliases.sh'), file('admin/aliases.sh'));
    writeFileSync(path.join(dir, 'etcdctl.env'), file('admin/etcdctl.env'));
    model.members.forEach((m, i) => writeFileSync(path.join(dir, `etcd-${i}.conf`), file(`${m.overlayDir}${model.paths.conf}`)));
    // A stand-in etcdctl that records its arguments, one per line.
    const stub = path.join(dir, 'etcdctl-stub');
    writeFileSync(stub, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "$ARGS_FILE"\n', { mode: 0o755 });

    let calls = 0;
    const call = (fn: string): string[] => {
      const argsFile = path.join(dir, `args-${calls++}`);
      const r = run('bash', ['-c', `. ./aliases.sh && ${fn} get key`], { cwd: dir, env: { ETCDCTL_BIN: stub, ARGS_FILE: argsFile } });
      assert.equal(r.status, 0, `${fn}: ${r.stderr}`);
      return readFileSync(argsFile, 'utf8').split('\n');
    };
    assert.ok(call('etcdctl_cluster').includes(`--endpoints=${model.admin.endpoints}`), 'the endpoints reach etcdctl as one argument, unchanged');
    for (const m of model.members) assert.ok(call(m.etcdctlFunction).includes(`--endpoints=${m.clientUrl}`), m.etcdctlFunction);

    const env = run('bash', ['-c', '. ./etcdctl.env && printf %s "$ETCDCTL_ENDPOINTS"'], { cwd: dir });
    assert.equal(env.stdout, model.admin.endpoints, env.stderr);
    model.members.forEach((m, i) => {
      const conf = run('env', ['-i', 'sh', '-c', `set -a; . ./etcd-${i}.conf; printf %s "$ETCD_NAME|$ETCD_ADVERTISE_CLIENT_URLS|$ETCD_DATA_DIR"`], { cwd: dir });
      assert.equal(conf.stdout, `${m.name}|${m.clientUrl}|${model.paths.data}`, conf.stderr);
    });
    // The runbooks: lib.sh's tables hold the values as they are, and --help (which sources lib.sh and
    // prints the members) runs nothing.
    mkdirSync(path.join(dir, 'runbooks'));
    for (const f of files.filter((f) => f.role === 'runbook')) writeFileSync(path.join(dir, f.path), f.contents);
    // (lib.sh checks this machine for etcdctl, ssh, openssl and curl: stand-ins, so the test needs none
    // of them; openssl's and curl's note a call, and none may come.)
    const helpStubs = path.join(dir, 'help-stubs');
    const stubCalled = path.join(dir, 'stub-called');
    mkdirSync(helpStubs);
    for (const tool of ['openssl', 'curl']) writeFileSync(path.join(helpStubs, tool), `#!/bin/sh\necho ${tool} >> '${stubCalled}'\nexit 1\n`, { mode: 0o755 });
    const tools = { ETCDCTL_BIN: 'true', ETCD_GEN_REMOTE: 'true', PATH: `${helpStubs}:${process.env.PATH ?? ''}` };
    const tables = run('bash', ['-c', '. runbooks/lib.sh && for m in "${MEMBERS[@]}"; do printf "%s|%s|%s\\n" "$m" "${MEMBER_HOST[$m]}" "${PEER_URL[$m]}"; done; printf "%s|%s" "$CLUSTER" "$DATA_DIR"'], { cwd: dir, env: tools });
    assert.equal(tables.status, 0, tables.stderr);
    assert.equal(tables.stdout, `${model.members.map((m) => `${m.name}|${m.host}|${m.peerUrl}\n`).join('')}${model.name}|${model.paths.data}`);
    for (const f of files.filter((f) => f.role === 'runbook' && f.path !== 'runbooks/lib.sh' && f.path !== 'runbooks/cluster.sh')) {
      const help = run('bash', [f.path, '--help'], { cwd: dir, env: tools });
      assert.equal(help.status, 0, `${f.path} --help: ${help.stderr}`);
    }
    assert.equal(existsSync(stubCalled), false, 'no runbook ran openssl or curl for --help');
    // cloud-init user-data: still one YAML document of the expected shape, each file at the path the model
    // names, and every runcmd step exactly the model's (whose values go through the one quoting helper).
    for (const m of model.members) {
      const text = file(`nodes/${m.name}/user-data.yaml`);
      assert.ok(text.startsWith('#cloud-config\n'), m.name);
      const doc = yaml.load(text) as { write_files: { path: string }[]; runcmd: string[] };
      assert.deepEqual(Object.keys(doc).sort(), ['runcmd', 'users', 'write_files']);
      assert.deepEqual(doc.write_files.map((f) => f.path), model.install.files.map((f) => f.path));
      // Literal blocks end with the newline YAML adds.
      assert.deepEqual(doc.runcmd.map((item) => item.replace(/\n$/, '')), model.cloudInit.steps.map((step) => step.script));
    }
    // And run: each runcmd step under sh, with install and systemctl replaced by stand-ins that record
    // their arguments (touch, where an injection would land, stays the real one).
    const stubs = path.join(dir, 'stubs');
    mkdirSync(stubs);
    for (const tool of ['install', 'systemctl']) {
      writeFileSync(path.join(stubs, tool), `#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> "$ARGS_FILE"\n`, { mode: 0o755 });
    }
    const argsFile = path.join(dir, 'runcmd-args');
    for (const step of model.cloudInit.steps) {
      run('sh', ['-c', step.script], { cwd: dir, env: { PATH: `${stubs}:/usr/bin:/bin`, ARGS_FILE: argsFile } });
    }
    const installed = readFileSync(argsFile, 'utf8').split('\n');
    for (const d of model.install.directories) assert.ok(installed.includes(d.path), `install -d got ${JSON.stringify(d.path)} as one argument`);
    assert.equal(existsSync(pwned), false, 'nothing ran');
  });
});
