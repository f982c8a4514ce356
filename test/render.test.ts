import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../src/diagnostics.js';
import { parseClusterSource } from '../src/input/load.js';
import { compileTemplates } from '../src/render/render.js';
import { shellQuote } from '../src/shell.js';
import { validateCluster } from '../src/input/validate.js';
import { buildInto, minimalCluster, readTree } from './helpers.js';

describe('shellQuote', () => {
  const nasty = ["it's", 'a b', '$(reboot)', '`id`', 'x;y', 'new\nline', '*', '', '"q"', '\\', '~root', 'a=b c'];
  for (const value of nasty) {
    it(`round-trips ${JSON.stringify(value)} through sh unchanged`, () => {
      const r = spawnSync('sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' });
      assert.equal(r.stdout, value);
    });
  }

  it('leaves plain URLs and paths readable', () => {
    assert.equal(shellQuote('https://10.0.0.1:2379,https://[fd00::1]:2379'), "'https://10.0.0.1:2379,https://[fd00::1]:2379'");
    assert.equal(shellQuote('/etc/etcd/pki/ca.crt'), '/etc/etcd/pki/ca.crt');
    assert.equal(shellQuote('etcd1=https://a.lan:2380'), 'etcd1=https://a.lan:2380');
  });
});

describe('templates', () => {
  const render = (source: string, context: object): string => {
    const t = compileTemplates(new Map([['t.hbs', source]])).get('t.hbs');
    assert.ok(t);
    return t(context);
  };

  it('render text, not HTML: nothing is escaped', () => {
    assert.equal(render('{{v}}', { v: 'a=b&c<d>"e\'' }), 'a=b&c<d>"e\'');
  });

  it('fail on a missing field instead of printing nothing', () => {
    assert.throws(() => render('{{missing}}', {}), /"missing" not defined/);
  });

  it('quote through q, which refuses a missing value or a wrong type', () => {
    assert.equal(render('x={{q v}}', { v: "it's" }), "x='it'\\''s'");
    assert.throws(() => render('{{q}}', {}), /helper q takes one string or number/);
    assert.throws(() => render('{{q v}}', { v: ['a'] }), /helper q takes one string or number/);
  });

  it('refuse helpers that are not known, built-in lookup and log included', () => {
    for (const source of ['{{foo a}}', '{{lookup a b}}', '{{log a}}']) {
      assert.throws(() => compileTemplates(new Map([['t.hbs', source]])).get('t.hbs')?.({ a: {}, b: 'x', foo: 1 }), /unknown helper/, source);
    }
  });
});

describe('precompiled templates', () => {
  it('render the same bytes as templates compiled from templates/', async () => {
    const { loadTemplates } = await import('../src/render/render.js');
    const { readTemplates } = await import('../src/resources.js');
    const { buildModel } = await import('../src/model/build.js');
    // Every optional part on (monitoring, backup), so that every template renders.
    const model = buildModel({ name: 'k8s1', etcd: { version: '3.5.13' }, nodes: [{ name: 'a', host: 'a.lan', ip: '10.0.0.1' }], monitoring: { enabled: true }, backup: { enabled: true } }, 'cluster.yaml');
    const fromSource = compileTemplates(readTemplates());
    const precompiled = loadTemplates();
    assert.deepEqual([...precompiled.keys()].sort(), [...fromSource.keys()].sort());
    const userData = { files: [], runcmd: [], packages: [] };
    const context = { ...model, member: model.members[0], userData, endpoints: 'https://a.lan:2379', pkiVar: '_p', certificates: [], peerLinks: [], version: '3.6.14', nodes: [{ name: 'a', host: 'a.lan' }], fileName: 'cluster.yaml', schemaPath: 'schema.json' };
    for (const [name, render] of fromSource) assert.equal(precompiled.get(name)?.(context), render(context), name);
  });
});

describe('member names that are DNS names', () => {
  it('build with every path, shell name and unit still safe', async (t) => {
    const names = ['k8s1-etcd1.k8s.lan', 'k8s1-etcd2.k8s.lan', 'k8s1-etcd3.k8s.lan'];
    const source = `name: k8s1\netcd: { version: "3.5.13" }\nnodes:\n${names.map((n, i) => `  - { name: ${n}, host: ${n}, ip: 10.0.0.${11 + i} }\n`).join('')}`;
    const { out } = await buildInto(t, source);
    const tree = readTree(out);
    for (const n of names) {
      assert.match(tree.get(`nodes/${n}/root/etc/etcd/etcd.conf`)?.contents ?? '', new RegExp(`^ETCD_NAME=${n.replace(/\./g, '\\.')}$`, 'm'));
      assert.ok(tree.has(`nodes/${n}/root/etc/systemd/system/etcd.service`), `${n}: the unit is etcd.service`);
    }
    assert.match(tree.get('nodes/k8s1-etcd1.k8s.lan/root/etc/etcd/etcd.conf')?.contents ?? '', /^ETCD_INITIAL_CLUSTER=k8s1-etcd1\.k8s\.lan=https:\/\/k8s1-etcd1\.k8s\.lan:2380,/m);
    // Shell names: '.' and '-' become '_'; bash defines them, and lib.sh keys its tables by the real name.
    const r = spawnSync('bash', ['-c', `source ${JSON.stringify(path.join(out, 'admin', 'aliases.sh'))} && declare -F | grep -c 'etcdctl_k8s1_etcd[123]_k8s_lan$'`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '3', r.stderr);
    const lib = spawnSync('bash', ['-c', `source ${JSON.stringify(path.join(out, 'runbooks', 'lib.sh'))} && printf '%s|' "\${MEMBERS[@]}" "\${PEER_URL[k8s1-etcd2.k8s.lan]}"`], { encoding: 'utf8', env: { ...process.env, ETCDCTL_BIN: 'true', ETCD_GEN_REMOTE: 'true' } });
    assert.equal(lib.stdout, `${names.join('|')}|https://k8s1-etcd2.k8s.lan:2380|`, lib.stderr);
  });

  it('refuses two names that would share a shell name', async () => {
    const doc = parseClusterSource(minimalCluster.replace('"3.5.13"', '"3.5.36"').replace('name: etcd1,', 'name: etcd-x,').replace('name: etcd2,', 'name: etcd.x,'), 'cluster.yaml');
    const messages = validateCluster(doc).diagnostics.map(formatDiagnostic);
    assert.deepEqual(messages, [
      `cluster.yaml:5:13: $.nodes[1].name: node name "etcd.x" and the name on line 4 differ only in '.' and '-', and both give the shell name etcdctl_etcd_x: rename one`,
    ]);
  });
});
