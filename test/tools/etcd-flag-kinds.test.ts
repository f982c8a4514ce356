/**
 * The kinds files (data/etcd-flags/3.X-kinds.txt) against what scripts/etcd-flag-kinds.ts reads from
 * etcd's registration code in the Go module cache (go mod download; npm run etcd:fetch fills it).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import { FIRST_MODULE_MINOR, flagKindsText, kindsFile, KINDS_MINORS, kindsRelease, serverModuleDir } from '../../scripts/etcd-flag-kinds.js';
import { needAll } from '../helpers.js';

for (const minor of KINDS_MINORS) {
  it(`data/etcd-flags/3.${minor}-kinds.txt is what scripts/etcd-flag-kinds.ts reads from etcd's code (npm run etcd:flag-kinds)`, (t) => {
    if (minor >= FIRST_MODULE_MINOR) {
      const release = kindsRelease(minor);
      const module = serverModuleDir(release);
      const how = `go mod download go.etcd.io/etcd/server/v3@v${release} fetches it (npm run etcd:fetch does, building the test matrix's go rows)`;
      if (!needAll(t, existsSync(module) ? [] : [`go.etcd.io/etcd/server/v3@v${release} in the Go module cache (${module})`], how)) return;
    }
    assert.equal(readFileSync(kindsFile(minor), 'utf8'), flagKindsText(minor), `etcd's registration code says otherwise: run npm run etcd:flag-kinds and commit the result`);
  });
}
