/**
 * The release data (src/etcd/releases.ts) and what validation makes of it. When etcd publishes a patch:
 * raise newestPatch of its line in src/etcd/releases.ts, extend data/etcd-flags/3.X.txt to it
 * (its header names the newest patch it covers; the first test below fails until both agree), add any
 * known defect with its source, and move test/etcd-matrix.txt on.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { issuesOf, KNOWN_ISSUES, newestRelease, parseRelease, RELEASE_LINES, releaseExists } from '../src/etcd/releases.js';
import { STARTER_DEFAULTS } from '../src/commands/init.js';
import { MINOR_MINIMUMS, minorMinimum, olderPatchNote, planRelease, releaseRefusal } from '../src/etcd/upgrade.js';
import { minimalCluster, repoRoot, runCli, tempDir } from './helpers.js';

const withVersion = (v: string) => minimalCluster.replace('"3.5.13"', `"${v}"`);

function check(t: import('node:test').TestContext, version: string): { status: number | null; stderr: string; json: { diagnostics?: { severity: string; message: string; path: string }[] } } {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'cluster.yaml'), withVersion(version));
  const r = runCli(['build', 'cluster.yaml', '-o', 'out', '--check', '--json'], { cwd: dir });
  return { status: r.status, stderr: r.stderr, json: JSON.parse(r.stdout || '{}') as { diagnostics?: { severity: string; message: string; path: string }[] } };
}

describe('etcd releases, as data', () => {
  it('knows each line up to the patch its flag list covers, so a new patch comes with its flags', () => {
    for (const line of RELEASE_LINES) {
      const header = readFileSync(path.join(repoRoot, 'data', 'etcd-flags', `3.${line.minor}.txt`), 'utf8').split('\n')[0] ?? '';
      assert.match(header, new RegExp(`up to v3\\.${line.minor}\\.${line.newestPatch}\\b`), `3.${line.minor}: newestPatch ${line.newestPatch} vs the flag list's header: ${header}`);
    }
  });

  it('accepts what exists and nothing else', () => {
    assert.equal(releaseExists({ minor: 6, patch: 17 }), true);
    assert.equal(releaseExists({ minor: 6, patch: 18 }), false);
    assert.equal(releaseExists({ minor: 8, patch: 0 }), false);
    assert.equal(releaseExists({ minor: 7, patch: 0 }), true);
  });

  it('every known issue names a range that exists, a fix after it, and a source', () => {
    for (const issue of KNOWN_ISSUES) {
      const [from, to, fixed] = [issue.from, issue.to, issue.fixedIn].map((v) => parseRelease(v));
      assert.ok(from && to && fixed, JSON.stringify(issue));
      assert.ok(releaseExists(from) && releaseExists(to) && releaseExists(fixed), JSON.stringify(issue));
      assert.equal(issuesOf(fixed).filter((i) => i === issue).length, 0, `${issue.fixedIn} is past ${issue.to}`);
      assert.ok(issue.source.length > 10);
    }
    assert.equal(issuesOf({ minor: 5, patch: 1 }).length, 1);
    assert.equal(issuesOf({ minor: 7, patch: 3 }).length, 0);
  });

  it('init starts users on the newest patch of the newest line', () => {
    assert.equal(STARTER_DEFAULTS.version, newestRelease());
    assert.equal(newestRelease(), '3.7.4');
  });
});

describe('validation of etcd.version', () => {
  it('builds a patch newer than the table with a warning naming the newest of its line (exit 1)', (t) => {
    const r = check(t, '3.6.99');
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(r.json.diagnostics?.filter((x) => x.severity === 'error'), []);
    const d = r.json.diagnostics?.find((x) => x.severity === 'warning' && x.path === '/etcd/version');
    assert.match(d?.message ?? '', /etcd 3\.6\.99 is newer than the newest 3\.6 patch etcd-gen knows \(3\.6\.17\)/);
  });

  it('warns about a release with known data inconsistency, naming the fix and the newest patch', (t) => {
    const r = check(t, '3.5.1');
    const warnings = (r.json.diagnostics ?? []).filter((x) => x.severity === 'warning').map((x) => x.message);
    assert.ok(warnings.some((w) => /etcd 3\.5\.1 can lose writes.*use 3\.5\.3 or later, best the newest patch 3\.5\.36/.test(w)), warnings.join('\n'));
  });

  it('warns about an end-of-life line, and about releases below Kubernetes\' minimums', (t) => {
    const eol = (check(t, '3.4.23').json.diagnostics ?? []).map((x) => x.message);
    assert.ok(eol.some((m) => /3\.4 is out of upstream support.*towards 3\.7\.4/.test(m)), eol.join('\n'));
    assert.ok(!eol.some((m) => /minimum Kubernetes recommends/.test(m)), '3.4.23 is above 3.4.22');
    const old = (check(t, '3.4.20').json.diagnostics ?? []).map((x) => x.message);
    assert.ok(old.some((m) => /3\.4\.22/.test(m)), old.join('\n'));
  });

  it('builds the newest releases of 3.5, 3.6 and 3.7 with no warning about the release', (t) => {
    const aboutRelease = (v: string) => (check(t, v).json.diagnostics ?? []).filter((x) => x.path === '/etcd/version');
    assert.equal(aboutRelease('3.4.23').length, 1, 'the filter finds a warning about the release');
    for (const v of ['3.5.36', '3.6.17', '3.7.4']) assert.deepEqual(aboutRelease(v), [], v);
  });
});

describe('the upgrade rules (src/etcd/upgrade.ts)', () => {
  const path = (from: string, to: string) => planRelease(from, to).steps.map((s) => `${s.from}>${s.to}`);
  it('goes through the newest patch of each minor on the way up, and names the zombie-member check into 3.6', () => {
    assert.deepEqual(path('3.4.23', '3.7.4'), ['3.4.23>3.4.45', '3.4.45>3.5.36', '3.5.36>3.6.17', '3.6.17>3.7.4']);
    assert.deepEqual(path('3.5.36', '3.6.2'), ['3.5.36>3.6.2']);
    assert.deepEqual(path('3.6.17', '3.6.17'), []);
    assert.match(planRelease('3.5.36', '3.6.17').notes.join('\n'), /3\.5\.32.*zombie_members_upgrade/);
    assert.deepEqual(planRelease('3.6.17', '3.7.4').notes, []);
  });
  it('keeps the documented minimums as data, each within a known line', () => {
    for (const m of MINOR_MINIMUMS) {
      const r = parseRelease(m.minimum);
      assert.ok(r && releaseExists(r) && r.minor === m.toMinor - 1, m.minimum);
      assert.match(m.source, /^https:\/\/etcd\.io\//);
    }
    assert.equal(minorMinimum(6)?.minimum, '3.5.32');
    assert.equal(minorMinimum(7)?.minimum, '3.6.11');
  });
  it('allows one step, and refuses a skip, a step from below the minimum, and a downgrade without the API', () => {
    assert.equal(releaseRefusal('3.4.23', '3.5.30'), null, 'a minor step from an older patch is allowed (advice only)');
    assert.match(olderPatchNote('3.4.23', '3.5.30') ?? '', /newest patch of 3\.4 \(3\.4\.45\)/);
    assert.equal(releaseRefusal('3.5.32', '3.6.0'), null);
    assert.equal(releaseRefusal('3.5.31', '3.6.17')?.kind, 'below-minimum', 'the 3.6 guide of 2026-08: 3.5.32 first');
    assert.equal(releaseRefusal('3.5.30', '3.6.17')?.path.map((s) => s.to).join(' '), '3.5.36 3.6.17');
    assert.equal(releaseRefusal('3.7.4', '3.6.17'), null, 'the downgrade API, from 3.6');
    assert.equal(releaseRefusal('3.5.36', '3.5.13'), null, 'a patch downgrade');
    assert.equal(releaseRefusal('3.4.23', '3.6.17')?.kind, 'skip');
    assert.equal(releaseRefusal('3.5.25', '3.6.17')?.kind, 'below-minimum');
    assert.equal(releaseRefusal('3.6.10', '3.7.4')?.kind, 'below-minimum');
    assert.deepEqual(releaseRefusal('3.6.10', '3.7.4')?.path.map((s) => s.to), ['3.6.17', '3.7.4']);
    assert.equal(releaseRefusal('3.5.36', '3.4.45')?.kind, 'no-downgrade-api');
    assert.equal(releaseRefusal('3.7.4', '3.5.36')?.kind, 'skip');
    assert.deepEqual(releaseRefusal('3.7.4', '3.5.36')?.path.map((s) => `${s.kind} ${s.to}`), ['minor-downgrade 3.6.17', 'minor-downgrade 3.5.36']);
  });
});
