import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../src/diagnostics.js';
import { locate, parseClusterSource } from '../src/input/load.js';

function parseError(source: string): InputError {
  try {
    parseClusterSource(source, 'c.yaml');
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the source to be refused');
}

describe('load', () => {
  it('maps JSON pointers to the lines and columns of values and keys', () => {
    const doc = parseClusterSource('name: k8s1\nnodes:\n  - { name: etcd1, host: a.lan }\n  - name: "etcd2"\n    host: b.lan\n', 'c.yaml');
    assert.deepEqual(locate(doc, '/name'), { line: 1, column: 7 });
    assert.deepEqual(locate(doc, '/name', true), { line: 1, column: 1 });
    assert.deepEqual(locate(doc, '/nodes/0/host'), { line: 3, column: 26 });
    assert.deepEqual(locate(doc, '/nodes/1/name'), { line: 4, column: 11 });
    assert.deepEqual(locate(doc, '/nodes/1/host', true), { line: 5, column: 5 });
    // A pointer to something missing falls back to its nearest ancestor.
    assert.deepEqual(locate(doc, '/nodes/1/ip'), locate(doc, '/nodes/1'));
  });

  it('escapes ~ and / in keys as JSON pointers do', () => {
    const doc = parseClusterSource('a/b: 1\n"c~d": 2\n', 'c.yaml');
    assert.deepEqual(locate(doc, '/a~1b'), { line: 1, column: 6 });
    assert.deepEqual(locate(doc, '/c~0d'), { line: 2, column: 8 });
  });

  it('reports YAML syntax errors at their position', () => {
    const err = parseError('name: a\nnodes: [1, 2\n');
    assert.equal(err.diagnostics.length, 1);
    assert.match(err.diagnostics[0]?.message ?? '', /^YAML syntax error/);
    assert.equal(err.diagnostics[0]?.position.line, 3);
  });

  it('refuses duplicate keys, pointing at the second', () => {
    const err = parseError('name: a\nname: b\n');
    assert.equal(err.diagnostics[0]?.position.line, 2);
    assert.match(err.diagnostics[0]?.message ?? '', /duplicat/);
  });

  it('refuses empty files, several documents and unknown tags', () => {
    assert.match(parseError('# only a comment\n').diagnostics[0]?.message ?? '', /no YAML document/);
    assert.match(parseError('name: a\n---\nname: b\n').diagnostics[0]?.message ?? '', /more than one YAML document/);
    assert.match(parseError('name: !!js/function x\n').diagnostics[0]?.message ?? '', /unknown/);
  });

  it('refuses alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
    const err = parseError(`${lines.join('\n')}\n`);
    assert.match(err.diagnostics[0]?.message ?? '', /alias/i);
  });

  it('keeps YAML 1.2 core types: yes stays a string, 010 stays decimal', () => {
    const doc = parseClusterSource('a: yes\nb: 010\nc: "3.5.13"\nd: 3.10\n', 'c.yaml');
    assert.deepEqual(doc.data, { a: 'yes', b: 10, c: '3.5.13', d: 3.1 });
  });
});
