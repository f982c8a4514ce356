/**
 * etcd.tuning and etcd.extraFlags: the checks etcd makes at start, the sizes its docs warn about, flags of
 * the cluster's release only, none that etcd-gen owns; and what reaches etcd.conf. The live proof that etcd
 * reads them is test/live/tuning.test.ts.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ClusterConfig } from '../src/input/config.js';
import { extraFlagRefusal, type EtcdMinor } from '../src/etcd/flags.js';
import { formatDiagnostic } from '../src/diagnostics.js';
import { parseClusterSource } from '../src/input/load.js';
import { buildModel } from '../src/model/build.js';
import { etcdFlagKinds, etcdFlagTable } from '../src/resources.js';
import { validateCluster } from '../src/input/validate.js';
import { runInProcess, tempDir } from './helpers.js';

const withEtcd = (version: string, fields: string): string =>
  `name: test\netcd:\n  version: "${version}"\n${fields}nodes:\n  - { name: etcd1, host: 10.0.0.11 }\n  - { name: etcd2, host: 10.0.0.12 }\n  - { name: etcd3, host: 10.0.0.13 }\n`;

/** The diagnostics of SOURCE, without those about the release itself (test/etcd-releases.test.ts has those). */
function diagnostics(source: string): string[] {
  return validateCluster(parseClusterSource(source, 'cluster.yaml')).diagnostics.filter((d) => d.pointer !== '/etcd/version').map(formatDiagnostic);
}

/** The validated config of SOURCE, which must have no error. */
function parseConfig(source: string): ClusterConfig {
  const { config, diagnostics: found } = validateCluster(parseClusterSource(source, 'cluster.yaml'));
  assert.ok(config, found.map(formatDiagnostic).join('\n'));
  return config;
}

describe('etcd.tuning', () => {
  it('refuses an election timeout under 5 heartbeats, as etcd does at start, at the field that was set', () => {
    const d = diagnostics(withEtcd('3.7.3', '  tuning: { heartbeatIntervalMs: 300, electionTimeoutMs: 1000 }\n'));
    assert.equal(d.length, 1, d.join('\n'));
    assert.match(d[0] ?? '', /^cluster\.yaml:4:58: \$\.etcd\.tuning\.electionTimeoutMs: an election timeout of 1000 ms is less than 5 heartbeats of 300 ms.*at least 1500/);
    // Only the heartbeat set: measured against etcd's default election timeout, and the heartbeat is named.
    const alone = diagnostics(withEtcd('3.7.3', '  tuning: { heartbeatIntervalMs: 250 }\n'));
    assert.match(alone[0] ?? '', /^cluster\.yaml:4:34: \$\.etcd\.tuning\.heartbeatIntervalMs: an election timeout of 1000 ms is less than 5 heartbeats of 250 ms/);
    assert.deepEqual(diagnostics(withEtcd('3.7.3', '  tuning: { heartbeatIntervalMs: 200, electionTimeoutMs: 1000 }\n')), []);
  });

  it('warns about a quota above 8 GiB and requests above 10 MiB, and refuses values outside etcd\'s range', () => {
    const d = diagnostics(withEtcd('3.6.16', '  tuning: { quotaBackendBytes: 17179869184, maxRequestBytes: 16777216 }\n'));
    assert.equal(d.length, 2, d.join('\n'));
    assert.match(d[0] ?? '', /warning: \$\.etcd\.tuning\.quotaBackendBytes: a backend quota of 16\.00 GiB is above the 8 GiB etcd suggests/);
    assert.match(d[1] ?? '', /warning: \$\.etcd\.tuning\.maxRequestBytes: requests of up to 16\.00 MiB are above the 10 MiB/);
    const range = diagnostics(withEtcd('3.6.16', '  tuning: { electionTimeoutMs: 60000, snapshotCount: 10 }\n'));
    assert.match(range.join('\n'), /electionTimeoutMs: .*50000/);
    assert.match(range.join('\n'), /snapshotCount: .*1000/);
  });

  it('writes only the fields that are set, after etcd-gen\'s own settings, each with the flag etcd reads', () => {
    const config: ClusterConfig = { name: 'test', etcd: { version: '3.5.35', tuning: { quotaBackendBytes: 8589934592, snapshotCount: 50000 } }, nodes: [{ name: 'etcd1', host: '10.0.0.11' }] };
    const settings = buildModel(config, 'cluster.yaml').members[0]?.settings ?? [];
    const tail = settings.slice(-2).map((s) => `${s.env}=${s.value}`);
    assert.deepEqual(tail, ['ETCD_QUOTA_BACKEND_BYTES=8589934592', 'ETCD_SNAPSHOT_COUNT=50000']);
    assert.ok(!settings.some((s) => s.flag === 'heartbeat-interval'), 'a field left out keeps etcd\'s default');
  });
});

describe('etcd.extraFlags', () => {
  it('names the closest flag of the release for one it does not have, and the patch that brought a newer one', () => {
    const d = diagnostics(withEtcd('3.7.3', '  extraFlags:\n    auto-compaction-mod: periodic\n    experimental-initial-corrupt-check: true\n'));
    assert.match(d[0] ?? '', /^cluster\.yaml:5:26: \$\.etcd\.extraFlags\.auto-compaction-mod: etcd 3\.7\.3 has no flag --auto-compaction-mod; did you mean auto-compaction-mode\?/);
    // 3.7 removed every --experimental-* flag.
    assert.match(d[1] ?? '', /experimental-initial-corrupt-check: etcd 3\.7\.3 has no flag/);
    const tooNew = diagnostics(withEtcd('3.5.10', '  extraFlags: { experimental-compaction-sleep-interval: 10ms }\n'));
    assert.match(tooNew[0] ?? '', /--experimental-compaction-sleep-interval came in etcd 3\.5\.16, after 3\.5\.10: upgrade etcd first/);
    assert.deepEqual(diagnostics(withEtcd('3.5.16', '  extraFlags: { experimental-compaction-sleep-interval: 10ms }\n')), []);
  });

  it("takes a value as etcd takes it: a list, a wildcard (cors: '*'), a whole number, true or false; refuses what a shell or an env file would read otherwise", () => {
    assert.deepEqual(diagnostics(withEtcd('3.6.16', "  extraFlags:\n    cors: '*'\n    auto-compaction-retention: 8\n    enable-grpc-gateway: false\n")), []);
    const d = diagnostics(withEtcd('3.6.16', "  extraFlags: { cors: 'a b' }\n"));
    assert.match(d[0] ?? '', /extraFlags\.cors: .*use a value of letters, digits and \. _ : \/ , = @ \+ % \* -/);
  });

  it('refuses flags that undo the security settings or that etcd-gen owns, each with its reason', () => {
    const d = diagnostics(
      withEtcd('3.6.16', '  extraFlags:\n    client-cert-auth: false\n    quota-backend-bytes: 1\n    force-new-cluster: true\n    feature-gates: StopGRPCServiceOnDefrag=true\n    initial-cluster: a=https://x:2380\n'),
    ).join('\n');
    assert.match(d, /client-cert-auth cannot be set through extraFlags: etcd-gen sets it: without it any client that reaches the port may read and write every key; remove it from extraFlags/);
    assert.match(d, /quota-backend-bytes cannot be set through extraFlags: etcd\.tuning\.quotaBackendBytes sets it/);
    assert.match(d, /force-new-cluster cannot be set through extraFlags: .*runbooks\/restore\.sh/);
    assert.match(d, /feature-gates cannot be set through extraFlags: etcd-gen sets the feature gates \(InitialCorruptCheck, CompactHashCheck\)/);
    assert.match(d, /initial-cluster cannot be set through extraFlags: etcd-gen writes it itself/);
  });

  it('refuses, from 3.6, the experimental flags whose feature gates etcd-gen sets, and flags that weaken durability or peer checks', () => {
    const d = diagnostics(withEtcd('3.6.16', '  extraFlags:\n    experimental-initial-corrupt-check: false\n    unsafe-no-fsync: true\n    peer-skip-client-san-verification: true\n    strict-reconfig-check: false\n')).join('\n');
    assert.match(d, /experimental-initial-corrupt-check cannot be set through extraFlags: etcd-gen sets its feature gate InitialCorruptCheck, and etcd 3\.6 refuses both/);
    assert.match(d, /unsafe-no-fsync cannot be set through extraFlags: .*lose writes etcd had acknowledged/);
    assert.match(d, /peer-skip-client-san-verification cannot be set through extraFlags/);
    assert.match(d, /strict-reconfig-check cannot be set through extraFlags/);
    // On 3.5 the experimental flag is one etcd-gen writes itself.
    assert.match(diagnostics(withEtcd('3.5.35', '  extraFlags: { experimental-initial-corrupt-check: false }\n')).join('\n'), /experimental-initial-corrupt-check cannot be set through extraFlags: etcd-gen writes it itself/);
  });

  it('points a renamed experimental flag at its new name: a warning on 3.6, the suggestion on 3.7', () => {
    const d36 = diagnostics(withEtcd('3.6.16', '  extraFlags: { experimental-snapshot-catchup-entries: 5000 }\n'));
    assert.match(d36[0] ?? '', /warning: .*--experimental-snapshot-catchup-entries is deprecated in etcd 3\.6\.16 and gone in 3\.7: use snapshot-catchup-entries/);
    const d37 = diagnostics(withEtcd('3.7.3', '  extraFlags: { experimental-snapshot-catchup-entries: 5000 }\n'));
    assert.match(d37[0] ?? '', /has no flag --experimental-snapshot-catchup-entries; did you mean snapshot-catchup-entries\?/);
  });

  it('refuses values that are not plain words, and writes the others sorted by flag, each as its ETCD_* variable', () => {
    const bad = diagnostics(withEtcd('3.7.3', '  extraFlags: { max-txn-ops: "1; touch /tmp/x", log-rotation-max-age: [1] }\n')).join('\n');
    assert.match(bad, /max-txn-ops: invalid value: use a value of letters, digits/);
    assert.match(bad, /log-rotation-max-age: must be a string, integer or boolean, not a list/);
    const config: ClusterConfig = { name: 'test', etcd: { version: '3.7.3', extraFlags: { 'max-txn-ops': 256, 'auto-compaction-mode': 'periodic', 'enable-grpc-gateway': false } }, nodes: [{ name: 'etcd1', host: '10.0.0.11' }] };
    const settings = buildModel(config, 'cluster.yaml').members[0]?.settings ?? [];
    assert.deepEqual(
      settings.slice(-3).map((s) => `${s.env}=${s.value}`),
      ['ETCD_AUTO_COMPACTION_MODE=periodic', 'ETCD_ENABLE_GRPC_GATEWAY=false', 'ETCD_MAX_TXN_OPS=256'],
    );
  });

  it("refuses a value etcd would not parse, at the value, saying what the flag takes with an example, and the build exits 2", async (t) => {
    const cases: [string, string, RegExp][] = [
      // uint: strconv.ParseUint, no sign; out of range
      ['3.7.3', '    max-txn-ops: abc\n', /^cluster\.yaml:5:18: \$\.etcd\.extraFlags\.max-txn-ops: --max-txn-ops takes a whole number of 0 or more, and etcd 3\.7\.3 refuses "abc": every member would fail to start with it; write a number such as 1000, without a sign/],
      ['3.5.35', '    max-txn-ops: -1\n', /^cluster\.yaml:5:18: .*--max-txn-ops takes a whole number of 0 or more, and etcd 3\.5\.35 refuses "-1"/],
      ['3.6.16', '    max-txn-ops: "18446744073709551616"\n', /^cluster\.yaml:5:18: .*refuses "18446744073709551616", out of its range \(0 to 18446744073709551615\)/],
      // int: strconv.ParseInt; a leading 0 is octal to Go
      ['3.7.3', '    backend-batch-limit: "09"\n', /^cluster\.yaml:5:26: .*--backend-batch-limit takes a whole number, and etcd 3\.7\.3 refuses "09": .*write a whole number such as 1000 \(etcd reads 0x, 0o and 0b prefixes, and a leading 0 as octal\)/],
      // bool: strconv.ParseBool knows no yes (YAML 1.2 reads it as a string)
      ['3.7.3', '    enable-grpc-gateway: yes\n', /^cluster\.yaml:5:26: .*--enable-grpc-gateway takes true or false, and etcd 3\.7\.3 refuses "yes": .*write true or false \(etcd also reads 1, 0/],
      // duration: time.ParseDuration; a bare number has no unit, and etcd knows no days
      ['3.7.3', '    grpc-keepalive-interval: 5\n', /^cluster\.yaml:5:30: .*--grpc-keepalive-interval takes a duration, and etcd 3\.7\.3 refuses "5", a number without a unit: .*write it with its unit, such as 5s or 5ms \(units: ns, us, ms, s, m, h; only 0 goes without one\)/],
      ['3.5.35', '    experimental-compaction-sleep-interval: 1d\n', /^cluster\.yaml:5:45: .*takes a duration, and etcd 3\.5\.35 refuses "1d": .*such as 300ms, 5s or 1h30m/],
    ];
    for (const [version, line, expected] of cases) {
      const d = diagnostics(withEtcd(version, `  extraFlags:\n${line}`)).filter((m) => m.includes('extraFlags'));
      assert.equal(d.length, 1, d.join('\n'));
      assert.match(d[0] ?? '', expected);
    }
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'cluster.yaml'), withEtcd('3.7.3', '  extraFlags: { max-txn-ops: abc }\n'));
    const r = await runInProcess(['build', path.join(dir, 'cluster.yaml'), '-o', path.join(dir, 'out')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cluster\.yaml:4:30: \$\.etcd\.extraFlags\.max-txn-ops: --max-txn-ops takes a whole number of 0 or more/);
  });

  it('takes every form etcd reads, as it reads them: YAML true, 0, "0x10", "1h2m3s", underscores and signs', () => {
    const fields = [
      '  extraFlags:',
      '    enable-grpc-gateway: true', // bool: YAML's true is written "true"
      '    socket-reuse-port: 1', // bool: ParseBool reads 1
      '    pre-vote: False',
      '    grpc-keepalive-interval: 0', // duration: 0 alone needs no unit
      '    grpc-keepalive-timeout: "1h2m3s"',
      '    compaction-sleep-interval: 1.5ms',
      '    warning-apply-duration: -100ms',
      '    max-txn-ops: "0x10"', // uint: base 0
      '    max-wals: 5',
      '    snapshot-catchup-entries: "1_000"',
      '    max-snapshots: "0o17"',
      '    backend-batch-limit: -1', // int: a sign
      '    compaction-batch-limit: "+1000"',
      '    auto-compaction-retention: 2h', // string: not checked
      '    log-outputs: stderr',
      '',
    ].join('\n');
    assert.deepEqual(diagnostics(withEtcd('3.7.3', fields)), []);
    const settings = buildModel(parseConfig(withEtcd('3.7.3', fields)), 'cluster.yaml').members[0]?.settings ?? [];
    const value = (flag: string): string | undefined => settings.find((s) => s.flag === flag)?.value;
    assert.deepEqual(
      ['enable-grpc-gateway', 'pre-vote', 'grpc-keepalive-interval', 'max-txn-ops'].map(value),
      ['true', 'false', '0', '0x10'],
      'etcd.conf carries the text that was checked',
    );
  });

  it('does not check the values of 3.4, whose flag registration code is not in the Go module cache, and says so', () => {
    assert.equal(etcdFlagKinds(4).size, 0);
    const d = diagnostics(withEtcd('3.4.23', '  extraFlags: { max-txn-ops: abc, enable-grpc-gateway: yes }\n')).filter((m) => m.includes('extraFlags'));
    assert.equal(d.length, 2, d.join('\n'));
    for (const m of d) assert.match(m, /warning: .*the value of --(max-txn-ops|enable-grpc-gateway) is not checked for etcd 3\.4\.23 \(etcd-gen knows the flag kinds of 3\.5 and later only\)/);
  });

  it('warns of an empty value, which etcd skips (the flag keeps its default)', () => {
    const d = diagnostics(withEtcd('3.7.3', '  extraFlags: { max-wals: "", cors: "" }\n')).filter((m) => m.includes('extraFlags'));
    assert.equal(d.length, 2, d.join('\n'));
    for (const m of d) assert.match(m, /warning: .*--(max-wals|cors) is empty, and etcd skips an empty setting: it runs with its default/);
  });

  it('refuses every flag etcd-gen writes, on every release line, and nothing it does not know', () => {
    for (const minor of [4, 5, 6, 7] as EtcdMinor[]) {
      const table = etcdFlagTable(minor);
      const release = { minor, patch: 99 };
      for (const flag of ['name', 'data-dir', 'cert-file', 'peer-cert-allowed-cn', 'cipher-suites', 'auto-tls', 'listen-client-urls']) {
        assert.ok(table.has(flag), `3.${minor} has --${flag}`);
        assert.notEqual(extraFlagRefusal(flag, release), null, `3.${minor}: --${flag} is refused`);
      }
      for (const flag of ['auto-compaction-retention', 'max-txn-ops', 'grpc-keepalive-interval']) {
        assert.ok(table.has(flag), `3.${minor} has --${flag}`);
        assert.equal(extraFlagRefusal(flag, release), null, `3.${minor}: --${flag} may be set`);
      }
    }
  });
});
