/**
 * etcd.tuning and etcd.extraFlags: the checks etcd makes at start, the sizes its docs warn about, flags of
 * the cluster's release only, none that etcd-gen owns; and what reaches etcd.conf. The live proof that etcd
 * reads them is test/live/tuning.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterConfig } from '../src/input/config.js';
import { extraFlagRefusal, type EtcdMinor } from '../src/etcd/flags.js';
import { formatDiagnostic } from '../src/diagnostics.js';
import { parseClusterSource } from '../src/input/load.js';
import { buildModel } from '../src/model/build.js';
import { etcdFlagTable } from '../src/resources.js';
import { validateCluster } from '../src/input/validate.js';

const withEtcd = (version: string, fields: string): string =>
  `name: test\netcd:\n  version: "${version}"\n${fields}nodes:\n  - { name: etcd1, host: 10.0.0.11 }\n  - { name: etcd2, host: 10.0.0.12 }\n  - { name: etcd3, host: 10.0.0.13 }\n`;

function diagnostics(source: string): string[] {
  return validateCluster(parseClusterSource(source, 'cluster.yaml')).diagnostics.map(formatDiagnostic);
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
