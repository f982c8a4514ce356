/**
 * How etcd parses a flag's value: Go's parsers as src/etcd/flag-values.ts rewrites them (every row below is
 * what Go 1.26's strconv and time answer, the Go that builds etcd 3.5.35, 3.6.16 and 3.7.3), and the kinds
 * files (data/etcd-flags/3.X-kinds.txt) against the flag tables and against what scripts/etcd-flag-kinds.ts
 * reads from etcd's registration code in the Go module cache (that one in test/tools/etcd-flag-kinds.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { flagValueProblem, goParseBool, goParseDuration, goParseFloat, goParseInt, goParseUint } from '../src/etcd/flag-values.js';
import { etcdFlagKinds, etcdFlagTable } from '../src/resources.js';
import { FIRST_MODULE_MINOR, flagRegistrations, kindsFile, KINDS_MINORS } from '../scripts/etcd-flag-kinds.js';

describe("Go's flag parsers, as etcd runs them", () => {
  it('bool: strconv.ParseBool', () => {
    for (const s of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(goParseBool(s), true, s);
    for (const s of ['0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(goParseBool(s), false, s);
    for (const s of ['yes', 'no', 'on', 'off', 'tRue', 'y', '2', '']) assert.equal(goParseBool(s), null, s);
  });

  it('uint: strconv.ParseUint base 0, 64 bits: prefixes, octal, underscores, no sign', () => {
    const accepted: [string, bigint][] = [
      ['0', 0n], ['1000', 1000n], ['0x10', 16n], ['0X1f', 31n], ['0o17', 15n], ['0b101', 5n], ['010', 8n], ['1_000', 1000n],
      ['0x_1', 1n], ['0_7', 7n], ['18446744073709551615', 18446744073709551615n], ['0xffffffffffffffff', 18446744073709551615n],
    ];
    for (const [s, n] of accepted) assert.equal(goParseUint(s), n, s);
    for (const s of ['', '-1', '+1', '09', '0x', '0b', '0b2', '1__0', '_1', '1_', '0b_', 'abc', '1.5', '1e3', ' 1', '１']) assert.equal(goParseUint(s), 'syntax', s);
    for (const s of ['18446744073709551616', '0x10000000000000000', '99999999999999999999x']) assert.equal(goParseUint(s), 'range', s);
  });

  it('int: strconv.ParseInt base 0, 64 bits: a sign, then what ParseUint reads', () => {
    const accepted: [string, bigint][] = [['-1', -1n], ['+5', 5n], ['-0x10', -16n], ['9223372036854775807', 9223372036854775807n], ['-9223372036854775808', -9223372036854775808n]];
    for (const [s, n] of accepted) assert.equal(goParseInt(s), n, s);
    for (const s of ['', '-', '--5', '+-5', '- 1', '1e3', '0x1p2']) assert.equal(goParseInt(s), 'syntax', s);
    for (const s of ['9223372036854775808', '-9223372036854775809']) assert.equal(goParseInt(s), 'range', s);
  });

  it('duration: time.ParseDuration: numbers with units, 0 alone without one', () => {
    const accepted: [string, bigint][] = [
      ['0', 0n], ['-0', 0n], ['+0', 0n], ['0s', 0n], ['300ms', 300_000_000n], ['1h2m3s', 3_723_000_000_000n], ['1.5s', 1_500_000_000n],
      ['.5s', 500_000_000n], ['1.s', 1_000_000_000n], ['1us', 1000n], ['1\u00b5s', 1000n], ['1\u03bcs', 1000n], ['-1h', -3_600_000_000_000n],
      ['1m1m', 120_000_000_000n], ['2562047h47m16.854775807s', 9223372036854775807n], ['-9223372036854775808ns', -9223372036854775808n],
      ['0.1h', 360_000_000_000n], ['1.00000000000000000000000000001h', 3_600_000_000_000n],
    ];
    for (const [s, n] of accepted) assert.equal(goParseDuration(s), n, s);
    for (const s of ['5', '1.5', '00', '-5']) assert.equal(goParseDuration(s), 'unit', s);
    for (const s of ['', '-', '1d', '1H', '1S', '.s', '-.s', '1h-1m', 'h', '1hh', '5 s', '0x10s', '3e2s', '5s3']) assert.equal(goParseDuration(s), 'syntax', s);
    for (const s of ['9223372036854775808ns', '2562047h47m16.854775808s', '-9223372036854775809ns']) assert.equal(goParseDuration(s), 'range', s);
  });

  it('float: strconv.ParseFloat, 64 bits: decimal, hexadecimal with p, Inf and NaN', () => {
    const accepted: [string, number][] = [
      ['1', 1], ['-0.5', -0.5], ['.5', 0.5], ['5.', 5], ['1e3', 1000], ['1E-3', 0.001], ['1e1_0', 1e10], ['1_0.5', 10.5], ['0x1p-2', 0.25],
      ['0x1.8p1', 3], ['0xep1', 28], ['inf', Infinity], ['+Inf', Infinity], ['-Infinity', -Infinity], ['1e-400', 0], ['0x0p99999', 0],
      ['1.7976931348623157e308', 1.7976931348623157e308],
    ];
    for (const [s, n] of accepted) assert.equal(goParseFloat(s), n, s);
    assert.ok(Number.isNaN(goParseFloat('NaN')));
    for (const s of ['', '.', 'e5', '1e', '1e+', '0x1', '0xp1', '+nan', 'infinit', '1__0', '._5', '1e_1', '0x', 'abc']) assert.equal(goParseFloat(s), 'syntax', s);
    for (const s of ['1e309', '-1e309', '0x1p1024', '1.7976931348623159e308']) assert.equal(goParseFloat(s), 'range', s);
  });

  it('checks the text etcd reads: a YAML number or boolean as it is written to etcd.conf; an empty value, which etcd skips, passes', () => {
    assert.equal(flagValueProblem('uint', 5), null);
    assert.equal(flagValueProblem('uint', -1), 'syntax');
    assert.equal(flagValueProblem('uint', true), 'syntax');
    assert.equal(flagValueProblem('int', -0), null);
    assert.equal(flagValueProblem('bool', true), null);
    assert.equal(flagValueProblem('bool', 1), null);
    assert.equal(flagValueProblem('bool', 2), 'syntax');
    assert.equal(flagValueProblem('duration', 0), null);
    assert.equal(flagValueProblem('duration', 5), 'unit');
    assert.equal(flagValueProblem('float', 3), null);
    assert.equal(flagValueProblem('uint', ''), null);
    assert.equal(flagValueProblem('string', 'anything at all'), null);
  });
});

describe('the kinds files', () => {
  it('give every flag of a line its kind, and name no other flag; 3.4 has none (no module source)', () => {
    for (const minor of KINDS_MINORS) {
      const kinds = etcdFlagKinds(minor);
      if (minor < FIRST_MODULE_MINOR) {
        assert.equal(kinds.size, 0, `3.${minor} values are not checked`);
        assert.match(readFileSync(kindsFile(minor), 'utf8'), /^# etcd 3\.4 server flags: no kinds\./);
        continue;
      }
      assert.deepEqual([...kinds.keys()], [...etcdFlagTable(minor).keys()], `3.${minor}: one row per flag of 3.${minor}.txt, in its order`);
      for (const flag of ['max-txn-ops', 'grpc-keepalive-interval', 'enable-grpc-gateway', 'backend-batch-limit']) assert.notEqual(kinds.get(flag), 'string', `3.${minor}: --${flag}`);
    }
    assert.equal(etcdFlagKinds(7).get('max-txn-ops'), 'uint');
    assert.equal(etcdFlagKinds(7).get('quota-backend-bytes'), 'int');
    assert.equal(etcdFlagKinds(6).get('experimental-compaction-sleep-interval'), 'duration');
    // etcd's own flag.Value types are not checked: a uint32 (max-concurrent-streams), URL lists, enums.
    assert.equal(etcdFlagKinds(5).get('max-concurrent-streams'), 'string');
    assert.equal(etcdFlagKinds(5).get('initial-cluster-state'), 'string');
  });

  it('reads flag definitions as Go writes them: literal names only, comments and other calls skipped', () => {
    const go = `
	fs.UintVar(&cfg.MaxTxnOps, "max-txn-ops", cfg.MaxTxnOps, "Maximum number of operations (see \\"docs\\"), per txn.")
	// fs.BoolVar(&cfg.Old, "commented-out", false, "gone")
	/* fs.IntVar(&x, "in-block-comment", 0, "") */
	fs.Var(
		flags.NewUniqueURLsWithExceptions(DefaultListenPeerURLs, ""),
		"listen-peer-urls",
		"List of URLs to listen on for peer traffic.",
	)
	fs.Duration("bare-duration", time.Second, "no pointer: the name comes first")
	fs.Var(flags.NewUint32Value(cfg.MaxConcurrentStreams), "max-concurrent-streams", "uint32, etcd's own type")
	lg.Info("x", zap.String("not-a-flag", key))
	for _, f := range cfg.ignored {
		fs.Var(&flags.IgnoredFlag{Name: f}, f, "")
	}
	fs.Int64Var(&cfg.Quota, "quota-backend-bytes", cfg.Quota, "bytes")`;
    assert.deepEqual(
      flagRegistrations(go).map((r) => `${r.flag} ${r.method} ${r.kind}`),
      ['max-txn-ops UintVar uint', 'listen-peer-urls Var string', 'bare-duration Duration duration', 'max-concurrent-streams Var string', 'quota-backend-bytes Int64Var int'],
    );
  });
});
