import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { compileTemplates } from '../src/render.js';
import { shellQuote } from '../src/shell.js';

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
    const t = compileTemplates(new Map([['t', source]])).get('t');
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
      assert.throws(() => compileTemplates(new Map([['t', source]])).get('t')?.({ a: {}, b: 'x', foo: 1 }), /unknown helper/, source);
    }
  });
});

describe('precompiled templates', () => {
  it('render the same bytes as templates compiled from templates/', async () => {
    const { loadTemplates } = await import('../src/render.js');
    const { readTemplates } = await import('../src/resources.js');
    const { buildModel } = await import('../src/model.js');
    const model = buildModel({ name: 'k8s1', etcd: { version: '3.5.13' }, nodes: [{ name: 'a', host: 'a.lan', ip: '10.0.0.1' }] }, 'cluster.yaml');
    const fromSource = compileTemplates(readTemplates());
    const precompiled = loadTemplates();
    assert.deepEqual([...precompiled.keys()].sort(), [...fromSource.keys()].sort());
    const userData = { files: [], runcmd: [], packages: [] };
    const context = { ...model, member: model.members[0], userData, endpoints: 'https://a.lan:2379', pkiVar: '_p', certificates: [], peerLinks: [], version: '3.6.14', nodes: [{ name: 'a', host: 'a.lan' }], fileName: 'cluster.yaml', schemaPath: 'schema.json' };
    for (const [name, render] of fromSource) assert.equal(precompiled.get(name)?.(context), render(context), name);
  });
});
