/**
 * How runbooks/lib.sh reads etcdctl's machine-readable answers: `member list -w fields`, `member add -w
 * json` and `alarm list -w json`. The answers below are what etcdctl 3.4.23, 3.5.16 and 3.7.3 printed
 * (these three formats are the same in 3.4 to 3.7; `alarm list -w fields` is not: it panics on a 3.4
 * server's answer); the live suites run the same functions against real clusters.
 * Member ids come in decimal and go out in hex, the form etcdctl's member commands take, across the
 * whole unsigned 64-bit range (ids at and above 2^63 included, and below 2^60, which hex prints shorter).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { buildInto, minimalCluster, run } from './helpers.js';

/** Runs bash CODE with lib.sh sourced, the output's cluster facts loaded, and ARGS as $1...; stdout. */
async function withLib(t: import('node:test').TestContext): Promise<(code: string, ...args: string[]) => string> {
  const { out } = await buildInto(t, minimalCluster);
  return (code, ...args) => {
    const r = run('bash', ['-c', `. "${path.join(out, 'runbooks', 'lib.sh')}" && ${code}`, 'bash', ...args], { env: { ...process.env, ETCDCTL_BIN: 'true', ETCD_GEN_REMOTE: 'true' } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
}

const memberList = [
  '"ClusterID" : 324952591200643719',
  '"MemberID" : 3319814642761637952',
  '"Revision" : 0',
  '"RaftTerm" : 2',
  '"ID" : 3319814642761637952',
  '"Name" : "m1"',
  '"PeerURL" : "https://10.0.0.11:2380"',
  '"ClientURL" : "https://10.0.0.11:2379"',
  '"IsLearner" : false',
  '',
  '"ID" : 15374614366821254393',
  '"Name" : "m2"',
  '"PeerURL" : "https://10.0.0.12:2380"',
  '"PeerURL" : "https://[fd00::12]:2380"',
  '"ClientURL" : "https://10.0.0.12:2379"',
  '"ClientURL" : "https://127.0.0.1:2379"',
  '"IsLearner" : false',
  '',
  '"ID" : 470250883710130344',
  '"Name" : ""',
  '"PeerURL" : "https://10.0.0.13:2380"',
  '"IsLearner" : true',
  '',
].join('\n');

test('member list -w fields: names, hex ids over the whole uint64 range, every peer URL, the first client URL, learners; an unstarted member by its peer URL', async (t) => {
  const lib = await withLib(t);
  const marked = memberList.split('\n').map((l) => `> ${l}`).join('\n');
  const dump = 'for k in "${LIVE_NAMES[@]}"; do printf "%s|%s|%s|%s|%s\\n" "$k" "${LIVE_ID[$k]}" "${LIVE_PEER[$k]}" "${LIVE_CLIENT[$k]}" "${LIVE_LEARNER[$k]}"; done';
  assert.equal(lib(`live_members_from "$1" true && ${dump}`, marked), [
    'm1|2e1259d415f2a040|https://10.0.0.11:2380|https://10.0.0.11:2379|false',
    'm2|d55d9a4ef4ff84f9|https://10.0.0.12:2380,https://[fd00::12]:2380|https://10.0.0.12:2379|false',
    'https://10.0.0.13:2380|686aaafeedb18a8|https://10.0.0.13:2380||true',
  ].join('\n') + '\n');
  assert.equal(lib('url_host "$1"', 'https://[fd00::12]:2380,https://10.0.0.12:2380'), 'fd00::12\n');

  // etcdctl failed: its stderr lines (not marked) are what it said, and the tables are not touched.
  const failed = lib('live_members_from "$1" false || printf "%s" "$LIVE_SAID"', '{"level":"warn","msg":"retrying of unary invoker failed","error":"context deadline exceeded"}\nError: context deadline exceeded');
  assert.equal(failed, 'Error: context deadline exceeded');
});

test('member add -w json: the new member\'s hex id and the initial cluster it joins, with the new member named', async (t) => {
  const lib = await withLib(t);
  const answers: [string, string][] = [
    // An id at or above 2^63, and one below 2^60.
    ['15374614366821254393', 'd55d9a4ef4ff84f9'],
    ['470250883710130344', '686aaafeedb18a8'],
  ];
  for (const [decimal, hex] of answers) {
    const json =
      '{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"raft_term":2},' +
      `"member":{"ID":${decimal},"peerURLs":["https://10.0.0.14:2380"],"isLearner":true},` +
      '"members":[{"ID":3319814642761637952,"name":"m1","peerURLs":["https://10.0.0.11:2380"],"clientURLs":["https://10.0.0.11:2379"]},' +
      '{"ID":2,"name":"m2","peerURLs":["https://10.0.0.12:2380","https://[fd00::12]:2380"],"clientURLs":["https://10.0.0.12:2379"]},' +
      `{"ID":${decimal},"peerURLs":["https://10.0.0.14:2380"],"isLearner":true}]}`;
    assert.equal(lib('parse_member_add "$1" m4', json), `${hex} m1=https://10.0.0.11:2380,m2=https://10.0.0.12:2380,m2=https://[fd00::12]:2380,m4=https://10.0.0.14:2380\n`);
  }
  // Not etcd's answer: nothing read, so join_member stops with what etcdctl printed.
  assert.equal(lib('parse_member_add "$1" m4', 'Member 688ee5c6782d8a8 added to cluster c6d690477d02ca0'), ' \n');
});

test('alarm list -w json: one line per raised alarm with its member in hex, nothing when none is raised', async (t) => {
  const lib = await withLib(t);
  // etcd 3.5 and later: a header, and "alarms" only when one is raised.
  const header = '"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":1,"raft_term":2}';
  assert.equal(lib('alarms_from "$1"', `{${header}}`), '');
  const raised = `{${header},"alarms":[{"memberID":3319814642761637952,"alarm":1},{"memberID":15374614366821254393,"alarm":2}]}`;
  assert.equal(lib('alarms_from "$1"', raised), 'NOSPACE (member 2e1259d415f2a040)\nCORRUPT (member d55d9a4ef4ff84f9)\n');
  // etcd 3.4 answers with no header at all (on which `-w fields` panics in every etcdctl).
  assert.equal(lib('alarms_from "$1"', '{}'), '');
  assert.equal(lib('alarms_from "$1"', '{"alarms":[{"memberID":10276657743932975437,"alarm":1}]}'), 'NOSPACE (member 8e9e05c52164694d)\n');
});
