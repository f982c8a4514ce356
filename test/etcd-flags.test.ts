import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ClusterConfig } from '../src/config.js';
import { envName } from '../src/etcd-flags.js';
import { buildModel } from '../src/model.js';
import { repoRoot } from './helpers.js';

/** etcd's own flag lists per release line: flag -> first patch release that has it. */
function flagList(line: string): Map<string, number> {
  const text = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'etcd-flags', `${line}.txt`), 'utf8');
  const flags = new Map<string, number>();
  for (const row of text.split('\n')) {
    if (!row || row.startsWith('#')) continue;
    const [flag, since] = row.split(' ');
    if (flag && since) flags.set(flag, Number(since));
  }
  return flags;
}

const versions = ['3.4.0', '3.4.23', '3.4.45', '3.5.0', '3.5.13', '3.5.33', '3.6.0', '3.6.14'];

describe('etcd flags per version', () => {
  for (const version of versions) {
    it(`emits only flags etcd ${version} accepts`, () => {
      const config: ClusterConfig = {
        name: 'k8s1',
        etcd: { version },
        nodes: [
          { name: 'a', host: 'a.lan', ip: '10.0.0.1' },
          { name: 'b', host: '10.0.0.2' },
          { name: 'c', host: 'c.lan' },
        ],
      };
      const [, minor, patch] = version.split('.').map(Number);
      const flags = flagList(`3.${minor}`);
      assert.ok(flags.size > 50, 'the flag list fixture is there');
      for (const member of buildModel(config, 'cluster.yaml').members) {
        for (const s of member.settings) {
          assert.equal(s.env, envName(s.flag));
          const since = flags.get(s.flag);
          assert.notEqual(since, undefined, `etcd ${version} has no --${s.flag}`);
          assert.ok((since ?? 0) <= (patch ?? 0), `--${s.flag} arrived in 3.${minor}.${since}, after ${version}`);
        }
      }
    });
  }

  it('knows a flag that came mid-line is missing before it', () => {
    // The fixture must be able to say no: tls-min-version arrived in 3.4.25.
    assert.equal(flagList('3.4').get('tls-min-version'), 25);
    assert.equal(flagList('3.6').get('enable-v2'), undefined);
  });
});
