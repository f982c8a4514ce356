import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { build } from '../src/pipeline.js';
import type { ClusterConfig } from '../src/input/config.js';
import { envName } from '../src/etcd/flags.js';
import { buildModel } from '../src/model/build.js';
import { repoRoot, run, tempDir } from './helpers.js';

const fixture = (name: string): string[] =>
  readFileSync(path.join(repoRoot, 'data', 'etcd-flags', name), 'utf8')
    .split('\n')
    .filter((row) => row && !row.startsWith('#'));

/** etcd's own flag lists per release line: flag -> first patch release that has it. */
function flagList(line: string): Map<string, number> {
  const flags = new Map<string, number>();
  for (const row of fixture(`${line}.txt`)) {
    const [flag, since] = row.split(' ');
    if (flag && since) flags.set(flag, Number(since));
  }
  return flags;
}

/** The newest patch release each fixture covers (its header says "up to v3.X.Y"). */
function newestPatch(line: string): number {
  const header = readFileSync(path.join(repoRoot, 'data', 'etcd-flags', `${line}.txt`), 'utf8').split('\n')[0] ?? '';
  const patch = new RegExp(`up to v${line.replace('.', '\\.')}\\.(\\d+)`).exec(header)?.[1];
  assert.ok(patch, `the ${line} fixture names its newest release: ${header}`);
  return Number(patch);
}

const lines = ['3.4', '3.5', '3.6', '3.7'] as const;
/** Every patch release of every line the fixtures know. */
const everyVersion = lines.flatMap((line) => Array.from({ length: newestPatch(line) + 1 }, (_, patch) => `${line}.${patch}`));

const config = (version: string): ClusterConfig => ({
  name: 'k8s1',
  etcd: { version },
  nodes: [
    { name: 'a', host: 'a.lan', ip: '10.0.0.1' },
    { name: 'b', host: '10.0.0.2' },
    { name: 'c', host: 'c.lan' },
  ],
});

/** flag -> value, for one member of one version. */
function emitted(version: string): Map<string, string> {
  // With a revocation list, so that its flags are checked too.
  const member = buildModel(config(version), 'cluster.yaml', { crl: true }).members[0];
  assert.ok(member);
  for (const s of member.settings) assert.equal(s.env, envName(s.flag));
  return new Map(member.settings.map((s) => [s.flag, s.value]));
}

describe('etcd flags per version', () => {
  it('covers every patch release the fixtures know', () => {
    assert.ok(everyVersion.length > 90, `${everyVersion.length} versions`);
    for (const line of lines) assert.ok(flagList(line).size > 50, `the ${line} flag list fixture is there`);
  });

  it('emits, for every patch release of 3.4 to 3.7, only flags that release accepts', () => {
    for (const version of everyVersion) {
      const [, minor, patch] = version.split('.').map(Number);
      const flags = flagList(`3.${minor}`);
      for (const [flag] of emitted(version)) {
        const since = flags.get(flag);
        assert.notEqual(since, undefined, `etcd ${version} has no --${flag}`);
        assert.ok((since ?? 0) <= (patch ?? 0), `--${flag} arrived in 3.${minor}.${since}, after ${version}`);
      }
    }
  });

  it('emits every flag it uses from the first patch release that has it, not just from the newest', () => {
    for (const line of lines) {
      const flags = flagList(line);
      const newest = emitted(`${line}.${newestPatch(line)}`);
      for (const flag of newest.keys()) {
        const since = flags.get(flag) ?? 0;
        for (let patch = 0; patch <= newestPatch(line); patch++) {
          assert.equal(emitted(`${line}.${patch}`).has(flag), patch >= since, `--${flag} in ${line}.${patch} (etcd has it since ${line}.${since})`);
        }
      }
    }
  });

  it('knows a flag that came mid-line is missing before it: Debian bookworm\'s 3.4.23 gets no --tls-min-version', () => {
    assert.equal(flagList('3.4').get('tls-min-version'), 25);
    assert.equal(flagList('3.6').get('enable-v2'), undefined);
    assert.equal(emitted('3.4.23').has('tls-min-version'), false);
    assert.equal(emitted('3.4.25').get('tls-min-version'), 'TLS1.2');
    assert.equal(emitted('3.5.7').has('tls-min-version'), false);
    assert.equal(emitted('3.5.8').get('tls-min-version'), 'TLS1.2');
    assert.equal(emitted('3.6.0').get('tls-min-version'), 'TLS1.2');
  });

  it('sets a cipher list only with a TLS 1.2 floor (etcd refuses one with TLS 1.3 only)', () => {
    for (const version of everyVersion) {
      const flags = emitted(version);
      assert.notEqual(flags.get('tls-min-version'), 'TLS1.3', version);
      const suites = flags.get('cipher-suites')?.split(',') ?? [];
      assert.ok(suites.length > 0, `${version} sets cipher suites`);
      for (const suite of suites) assert.match(suite, /^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305)$/, `${version}: ${suite}`);
    }
  });

  it('turns the corruption checks on in the syntax of each release', () => {
    for (const version of everyVersion) {
      const [, minor, patch] = version.split('.').map(Number);
      const flags = emitted(version);
      if ((minor ?? 0) >= 6) {
        const gates = new Set(fixture(`3.${minor}-feature-gates.txt`));
        const set = Object.fromEntries((flags.get('feature-gates') ?? '').split(',').map((kv) => kv.split('=')));
        for (const gate of Object.keys(set)) assert.ok(gates.has(gate), `${version}: 3.${minor} has no feature gate ${gate}`);
        assert.deepEqual(set, { InitialCorruptCheck: 'true', CompactHashCheck: 'true' }, version);
        // 3.6 deprecates the experimental flags, and refuses one together with its gate; 3.7 has none.
        assert.deepEqual([...flags.keys()].filter((f) => f.startsWith('experimental-')), [], version);
      } else {
        assert.equal(flags.get('experimental-initial-corrupt-check'), 'true', version);
        assert.equal(flags.get('experimental-compact-hash-check-enabled'), minor === 5 && (patch ?? 0) >= 5 ? 'true' : undefined, version);
        assert.equal(flags.has('feature-gates'), false, version);
      }
    }
  });

  it('restricts peers to the peer certificates\' CN, keeps pprof and debug logging off, and metrics on loopback', () => {
    for (const version of everyVersion) {
      const flags = emitted(version);
      assert.equal(flags.get('peer-cert-allowed-cn'), 'k8s1-etcd-peer', version);
      assert.equal(flags.has('peer-cert-allowed-hostname'), false, `${version}: etcd refuses an allowed CN and hostname together`);
      assert.equal(flags.get('enable-pprof'), 'false', version);
      assert.equal(flags.get('log-level'), 'info', version);
      assert.equal(flags.has('debug'), false, version);
      assert.equal(flags.get('listen-metrics-urls'), 'http://127.0.0.1:2381', version);
    }
  });
});

/** etcd.conf as systemd and the harness read it: every ETCD_* variable it sets, via sh. */
function sourceEnv(file: string): Map<string, string> {
  const r = run('env', ['-i', 'sh', '-c', 'set -a; . "$1"; env -0', 'sh', file]);
  assert.equal(r.status, 0, r.stderr);
  return new Map(
    r.stdout
      .split('\0')
      .filter((kv) => kv.startsWith('ETCD_'))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
  );
}

describe('the CIS Kubernetes Benchmark etcd checks (section 2) hold on the emitted etcd.conf', () => {
  for (const version of ['3.4.0', '3.4.23', '3.4.25', '3.5.0', '3.5.5', '3.5.8', '3.5.35', '3.6.0', '3.6.16', '3.7.0', '3.7.3']) {
    it(`for etcd ${version}`, async (t) => {
      const dir = tempDir(t);
      writeFileSync(path.join(dir, 'cluster.yaml'), `name: cis\netcd: { version: "${version}" }\nnodes:\n  - { name: etcd1, host: 10.0.0.11 }\n  - { name: etcd2, host: 10.0.0.12 }\n  - { name: etcd3, host: 10.0.0.13 }\n`);
      const result = await build({ configFile: path.join(dir, 'cluster.yaml'), outDir: path.join(dir, 'out') });
      const [, minor, patch] = version.split('.').map(Number);
      const flags = flagList(`3.${minor}`);
      const envToFlag = new Map([...flags.keys()].map((f) => [envName(f), f]));
      for (const member of result.model.members) {
        const root = path.join(dir, 'out', member.overlayDir);
        const env = sourceEnv(path.join(root, result.model.paths.conf));
        const onMember = (file: string | undefined): string => readFileSync(path.join(root, (file ?? '').slice(1)), 'utf8');
        // Every variable names a flag this release has.
        for (const name of env.keys()) {
          const flag = envToFlag.get(name);
          assert.ok(flag && (flags.get(flag) ?? 99) <= (patch ?? 0), `${version}: ${name} is no flag of etcd ${version}`);
        }
        // 2.1 cert-file and key-file: the member's own server certificate and its key.
        assert.match(onMember(env.get('ETCD_CERT_FILE')), /BEGIN CERTIFICATE/);
        assert.match(onMember(env.get('ETCD_KEY_FILE')), /BEGIN PRIVATE KEY/);
        // 2.2 client-cert-auth, 2.3 no auto-tls.
        assert.equal(env.get('ETCD_CLIENT_CERT_AUTH'), 'true');
        assert.notEqual(env.get('ETCD_AUTO_TLS'), 'true');
        // 2.4 peer-cert-file and peer-key-file, 2.5 peer-client-cert-auth, 2.6 no peer-auto-tls.
        assert.match(onMember(env.get('ETCD_PEER_CERT_FILE')), /BEGIN CERTIFICATE/);
        assert.match(onMember(env.get('ETCD_PEER_KEY_FILE')), /BEGIN PRIVATE KEY/);
        assert.equal(env.get('ETCD_PEER_CLIENT_CERT_AUTH'), 'true');
        assert.notEqual(env.get('ETCD_PEER_AUTO_TLS'), 'true');
        // 2.7 a CA of etcd's own: both listeners trust this cluster's etcd CA and nothing else.
        const ca = result.pki.pairs.get('ca');
        assert.equal(ca?.spec.commonName, 'cis-etcd-ca');
        assert.equal(onMember(env.get('ETCD_TRUSTED_CA_FILE')), ca?.certPem);
        assert.equal(onMember(env.get('ETCD_PEER_TRUSTED_CA_FILE')), ca?.certPem);
      }
    });
  }
});
