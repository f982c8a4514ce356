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
