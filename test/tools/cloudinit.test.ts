/**
 * cloud-init user-data (nodes/<name>/user-data.yaml), checked by the tools that run it: cloud-init's own
 * schema check, shellcheck on runcmd as cloud-init assembles it, the tarball install step run for real
 * in a mount namespace, and age on sealed user-data. Under CI=true a missing tool fails the test.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import * as yaml from 'js-yaml';
import type { ClusterConfig } from '../../src/input/config.js';
import { buildModel } from '../../src/model/build.js';
import { buildInto, minimalCluster, needTools, readTree, run, tempDir } from '../helpers.js';
import { type ClusterModel } from '../../src/model/types.js';
import { yamlBlock } from '../../src/render/user-data.js';

/** A SHA-256 for configs that are only rendered, never downloaded. */
const SOME_SHA256 = 'a'.repeat(64);

const variants = {
  tarball: minimalCluster.replace('etcd: { version: "3.5.13" }', `etcd: { version: "3.5.13", install: { from: tarball, sha256: ${SOME_SHA256} } }`),
  package: `${minimalCluster.replace('"3.5.13"', '"3.4.23", install: { from: package }')}paths: { bin: /usr/bin }\n`,
  none: minimalCluster,
} as const;

interface UserData {
  users: unknown[];
  packages?: string[];
  write_files: { path: string; owner: string; permissions: string; defer: boolean; content: string }[];
  runcmd: string[];
}

const readUserData = (out: string, model: ClusterModel, member: string): { text: string; doc: UserData } => {
  const m = model.members.find((x) => x.name === member) ?? assert.fail(member);
  const text = readFileSync(path.join(out, m.userDataPath), 'utf8');
  return { text, doc: yaml.load(text) as UserData };
};

/**
 * runcmd as cloud-init writes it to disk and runs it: its own util.shellify, one sh script. Run with the
 * Python in cloud-init's #! line: the python3 on PATH may be another one, without cloud-init's modules.
 */
function runcmdScript(t: TestContext, userDataFile: string): string {
  const cloudInit = run('sh', ['-c', 'command -v cloud-init']).stdout.trim();
  const python = /^#!(\S+)/.exec(readFileSync(cloudInit, 'utf8').split('\n')[0] ?? '')?.[1] ?? 'python3';
  const dir = tempDir(t);
  const script = path.join(dir, 'shellify.py');
  writeFileSync(script, 'import sys, yaml\nfrom cloudinit import util\nsys.stdout.write(util.shellify(yaml.safe_load(open(sys.argv[1]))["runcmd"]))\n');
  const r = run(python, [script, userDataFile]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('user-data', () => {
  for (const [from, source] of Object.entries(variants)) {
    it(`passes cloud-init schema for every member, etcd.install from ${from}`, async (t) => {
      if (!needTools(t, ['cloud-init'])) return;
      const { out, result } = await buildInto(t, source);
      for (const m of result.model.members) {
        const r = run('cloud-init', ['schema', '--config-file', path.join(out, m.userDataPath)]);
        assert.equal(r.status, 0, `${m.name}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /^Valid cloud-config: /m, m.name);
        assert.doesNotMatch(r.stdout + r.stderr, /deprecat|error/i, m.name);
      }
    });

    it(`write_files reproduce each member's overlay and model.install exactly, from ${from}`, async (t) => {
      const { out, result } = await buildInto(t, source);
      const { model } = result;
      for (const m of model.members) {
        const { text, doc } = readUserData(out, model, m.name);
        assert.equal(text.split('\n')[0], '#cloud-config');
        assert.match(text, /holds the member's private keys in the clear/);
        assert.equal(statSync(path.join(out, m.userDataPath)).mode & 0o777, 0o600, 'user-data holds keys: 0600');
        assert.deepEqual(doc.users, ['default', {
          name: model.install.user, system: true, no_create_home: true, homedir: model.paths.data, shell: '/usr/sbin/nologin', lock_passwd: true,
        }]);
        assert.equal(doc.write_files.length, model.install.files.length);
        model.install.files.forEach((f, i) => {
          const entry = doc.write_files[i] ?? assert.fail(`no write_files entry for ${f.path}`);
          const overlayFile = path.join(out, m.overlayDir, f.path);
          assert.deepEqual(
            { path: entry.path, owner: entry.owner, permissions: entry.permissions, defer: entry.defer },
            { path: f.path, owner: `${f.user}:${f.group}`, permissions: f.modeText, defer: true },
            f.path,
          );
          assert.equal(entry.content, readFileSync(overlayFile, 'utf8'), `${m.name} ${f.path}: content as in the overlay`);
          assert.equal(statSync(overlayFile).mode & 0o777, f.mode, `${m.name} ${f.path}: the overlay's mode is model.install's`);
          const manifestEntry = result.manifest.files.find((e) => e.path === path.posix.join(m.overlayDir, f.path.slice(1)));
          assert.equal(manifestEntry?.owner, entry.owner, `${f.path}: the manifest's owner`);
        });
        // The runcmd items are the model's steps, byte for byte.
        assert.deepEqual(doc.runcmd, model.cloudInit.steps.map((s) => `${s.script}\n`));
        assert.equal(doc.runcmd[0], 'set -eu\n', 'the first step stops runcmd at the first failure');
        assert.deepEqual(doc.packages ?? [], from === 'tarball' ? ['ca-certificates', 'curl'] : []);
        const directories = doc.runcmd.find((s) => s.startsWith('install -d')) ?? '';
        for (const d of model.install.directories) assert.ok(directories.includes(`install -d -o ${d.user} -g ${d.group} -m ${d.modeText} ${d.path}\n`), d.path);
        assert.match(doc.runcmd.at(-1) ?? '', /systemctl enable etcd\nsystemctl start --no-block etcd\n$/);
      }
      // Same input, same bytes.
      const again = await buildInto(t, source);
      const m0 = model.members[0] ?? assert.fail();
      assert.equal(
        readFileSync(path.join(again.out, m0.userDataPath), 'utf8').replace(/-----BEGIN [\s\S]*?-----END [A-Z ]+-----/g, ''),
        readFileSync(path.join(out, m0.userDataPath), 'utf8').replace(/-----BEGIN [\s\S]*?-----END [A-Z ]+-----/g, ''),
      );
    });

    it(`shellcheck -s sh passes runcmd as cloud-init assembles it, from ${from}`, async (t) => {
      if (!needTools(t, ['shellcheck', 'cloud-init'])) return;
      const { out, result } = await buildInto(t, source);
      const m = result.model.members[0] ?? assert.fail();
      const script = runcmdScript(t, path.join(out, m.userDataPath));
      assert.match(script, /^#!\/bin\/sh\nset -eu\n/);
      const r = run('shellcheck', ['--shell=sh', '--severity=style', '-'], { input: script });
      assert.equal(r.status, 0, r.stdout + r.stderr + script);
    });
  }

  it('installs etcd from package with a policy-rc.d in place, and checks the version', async (t) => {
    const { out, result } = await buildInto(t, variants.package);
    const step = readUserData(out, result.model, 'etcd1').doc.runcmd[1] ?? '';
    const policy = step.indexOf('> /usr/sbin/policy-rc.d');
    const apt = step.indexOf('apt-get install -y etcd-server etcd-client');
    const removed = step.indexOf('rm -f /usr/sbin/policy-rc.d');
    assert.ok(policy >= 0 && policy < apt && apt < removed, step);
    assert.match(step, /exit 101/);
    assert.match(step, /\/usr\/bin\/etcd --version \| grep -qx 'etcd Version: 3\.4\.23'/);
  });

  it('with from: none, fails the start with a clear message when the binary is missing', async (t) => {
    const { model } = (await buildInto(t, variants.none)).result;
    const check = model.cloudInit.steps.find((s) => s.name === 'etcd')?.script ?? assert.fail();
    const r = run('sh', ['-eu', '-c', check.replaceAll('/usr/local/bin/etcd', '/nonexistent/etcd')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /\/nonexistent\/etcd is missing: install etcd 3\.5\.13 there/);
  });
});

describe('the tarball install step, run for real in a mount namespace', () => {
  /** A stand-in release tarball: etcd, etcdctl and etcdutl that print a version. */
  function fakeRelease(dir: string, printed: string): { tarball: string; sha256: string } {
    const top = 'etcd-v3.5.13-linux-amd64';
    mkdirSync(path.join(dir, 'src', top), { recursive: true });
    for (const name of ['etcd', 'etcdctl', 'etcdutl']) {
      const file = path.join(dir, 'src', top, name);
      writeFileSync(file, `#!/bin/sh\necho '${name === 'etcd' ? 'etcd' : name} Version: ${printed}'\n`);
      chmodSync(file, 0o700);
    }
    writeFileSync(path.join(dir, 'src', top, 'README.md'), 'not installed\n');
    const tarball = path.join(dir, `${top}.tar.gz`);
    const r = run('tar', ['-czf', tarball, '-C', path.join(dir, 'src'), top]);
    assert.equal(r.status, 0, r.stderr);
    return { tarball, sha256: createHash('sha256').update(readFileSync(tarball)).digest('hex') };
  }

  /** The install step of user-data for a tarball at a file:// URL (validation wants https; curl reads both). */
  function installStep(url: string, sha256: string, version = '3.5.13'): string {
    const config: ClusterConfig = { name: 'test', etcd: { version, install: { from: 'tarball', sha256, url } }, nodes: [{ name: 'etcd1', host: '10.0.0.11' }] };
    return buildModel(config, 'cluster.yaml').cloudInit.steps.find((s) => s.name === 'etcd')?.script ?? assert.fail();
  }

  /** Runs the step as root with a private, empty /usr/local/bin, and TMPDIR where the test can look. */
  function runStep(t: TestContext, step: string): { status: number | null; stderr: string; bin: string; work: string } {
    const dir = tempDir(t);
    const bin = path.join(dir, 'bin');
    const work = path.join(dir, 'work');
    mkdirSync(bin);
    mkdirSync(work);
    const r = run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /usr/local/bin && exec sh -eu -c "$2"', 'sh', bin, step], { env: { TMPDIR: work } });
    return { status: r.status, stderr: r.stderr, bin, work };
  }

  it('downloads, checks the SHA-256, installs etcd, etcdctl and etcdutl 0755, and checks the version', (t) => {
    if (!needTools(t, ['unshare', 'mount', 'curl', 'sha256sum', 'tar'], { root: true })) return;
    const release = fakeRelease(tempDir(t), '3.5.13');
    const r = runStep(t, installStep(`file://${release.tarball}`, release.sha256));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(r.bin).sort(), ['etcd', 'etcdctl', 'etcdutl']);
    for (const name of readdirSync(r.bin)) {
      const s = statSync(path.join(r.bin, name));
      assert.equal(s.mode & 0o777, 0o755, name);
      assert.equal(s.uid, 0, name);
    }
    assert.deepEqual(readdirSync(r.work), [], 'the download is cleaned up');
  });

  it('with a wrong SHA-256, fails and unpacks and installs nothing', (t) => {
    if (!needTools(t, ['unshare', 'mount', 'curl', 'sha256sum', 'tar'], { root: true })) return;
    const release = fakeRelease(tempDir(t), '3.5.13');
    const r = runStep(t, installStep(`file://${release.tarball}`, '0'.repeat(64)));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /does not have the sha256 cluster\.yaml pins \(0{64}\): nothing was unpacked or installed/);
    assert.deepEqual(readdirSync(r.bin), [], 'nothing installed');
    const [download, ...others] = readdirSync(r.work);
    assert.deepEqual(others, []);
    assert.deepEqual(readdirSync(path.join(r.work, download ?? '')), ['etcd.tar.gz'], 'nothing unpacked');
  });

  it('fails when the installed etcd is not the pinned version', (t) => {
    if (!needTools(t, ['unshare', 'mount', 'curl', 'sha256sum', 'tar'], { root: true })) return;
    const release = fakeRelease(tempDir(t), '3.5.12');
    const r = runStep(t, installStep(`file://${release.tarball}`, release.sha256));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /\/usr\/local\/bin\/etcd is not etcd 3\.5\.13, the version cluster\.yaml pins/);
  });
});


describe('sealed user-data', () => {
  it('with age recipients, is written as user-data.yaml.age that age opens, and no key is left in the clear', async (t) => {
    if (!needTools(t, ['age', 'age-keygen'])) return;
    const dir = tempDir(t);
    const idFile = path.join(dir, 'id.txt');
    assert.equal(run('age-keygen', ['-o', idFile]).status, 0);
    const recipient = run('age-keygen', ['-y', idFile]).stdout.trim();
    const { out, result } = await buildInto(t, `${minimalCluster}age: { recipients: [${recipient}] }\n`);
    const tree = readTree(out);
    for (const m of result.model.members) {
      assert.ok(!tree.has(m.userDataPath), `${m.userDataPath} is not in the clear`);
      const sealed = tree.get(`${m.userDataPath}.age`) ?? assert.fail(`no ${m.userDataPath}.age`);
      assert.equal(sealed.mode, 0o600);
      const opened = run('age', ['-d', '-i', idFile, path.join(out, `${m.userDataPath}.age`)]);
      assert.equal(opened.status, 0, opened.stderr);
      assert.match(opened.stdout, /^#cloud-config\n/);
      const doc = yaml.load(opened.stdout) as UserData;
      const serverKey = doc.write_files.find((f) => f.path === `${result.model.paths.pki}/server.key`)?.content;
      const sealedKey = run('age', ['-d', '-i', idFile, path.join(out, m.overlayDir, result.model.paths.pki.slice(1), 'server.key.age')]).stdout;
      assert.equal(serverKey, sealedKey, 'user-data carries the same key as the overlay');
    }
    for (const [file, f] of tree) assert.doesNotMatch(f.contents, /PRIVATE KEY/, file);
    const gitignore = tree.get('.gitignore')?.contents ?? '';
    assert.match(gitignore, /^nodes\/\*\/user-data\.yaml$/m, 'a decrypted copy stays out of git');
  });

  it('without age, out/.gitignore keeps user-data out of git', async (t) => {
    const { out } = await buildInto(t, minimalCluster);
    const gitignore = readFileSync(path.join(out, '.gitignore'), 'utf8');
    assert.match(gitignore, /^\*\.key$/m);
    assert.match(gitignore, /^nodes\/\*\/user-data\.yaml$/m);
  });
});

describe('yamlBlock', () => {
  const samples = ['a\n', 'a', 'a\n\n', 'a\n\nb\n', '  leading', '\nleading newline', 'tab\there\n', 'trailing  \n', '# not a comment\n', 'key: value\n- item\n', '', 'cr\r\n', 'nul\u0000', 'ü ✓\n'];
  for (const text of samples) {
    it(`reads back ${JSON.stringify(text)} byte for byte`, () => {
      const doc = yaml.load(`list:\n  - x: 1\n    content: ${yamlBlock(text, 6)}\n  - y: 2\n`) as { list: { content?: string }[] };
      assert.equal(doc.list[0]?.content, text);
      assert.equal(doc.list.length, 2);
    });
  }
});
