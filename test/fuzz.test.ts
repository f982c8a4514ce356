/**
 * Property-based and mutation fuzzing (fast-check). Whatever the cluster.yaml, a build either writes a
 * complete output or refuses with diagnostics that point into the file and leaves the disk as it was:
 * never a crash, never partial output, never a private key outside a key file.
 * fast-check prints the seed and path of any failure; rerun with them to reproduce.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as yaml from 'js-yaml';
import { build } from '../src/pipeline.js';
import { InputError } from '../src/diagnostics.js';
import { parseClusterSource } from '../src/input/load.js';
import { buildModel } from '../src/model/build.js';
import { certSpecs } from '../src/pki/profiles.js';
import { compileTemplates, renderOutput } from '../src/render/render.js';
import { readTemplates } from '../src/resources.js';
import { validateCluster } from '../src/input/validate.js';
import { examplesDir, readTree } from './helpers.js';
import { type Manifest } from '../src/output/files.js';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
/** Now and then a value of any JSON type or any text, where a valid one belongs. */
const sometimes = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 60, arbitrary: valid }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
const node = fc.record({ name: sometimes(label), host: sometimes(host), ip: optional(sometimes(fc.ipV4())) }, { requiredKeys: ['name', 'host'] });
const port = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(2379, 2380, 2381) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 65535 }) });
const dir = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('/etc/etcd', '/var/lib/etcd', '/srv/etcd', '/opt/etcd/data', '/usr/local/bin', '/var/lib/etcd/default') },
  { weight: 1, arbitrary: fc.constantFrom('/etc', '/tmp/x', '/var/lib', '/home/a/b', '/a/../b', '/a/') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => `/${s}`) },
);

const clusterConfig = fc.record(
  {
    name: sometimes(label),
    token: optional(sometimes(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,12}$/))),
    etcd: fc.record({
      version: sometimes(fc.tuple(fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 4, max: 6 }) }, { weight: 1, arbitrary: fc.constantFrom(3, 7) }), fc.nat(40)).map(([minor, patch]) => `3.${minor}.${patch}`)),
    }),
    nodes: sometimes(fc.array(node, { minLength: 1, maxLength: 4 })),
    ports: optional(fc.record({ client: sometimes(port), peer: sometimes(port), metrics: sometimes(port) }, { requiredKeys: [] })),
    tls: optional(
      fc.record(
        {
          // RSA keys take a second or more to generate: the tools test covers them.
          key: sometimes(fc.constantFrom('ecdsa-p256', 'ecdsa-p384')),
          caDays: sometimes(fc.integer({ min: 300, max: 5000 })),
          certDays: sometimes(fc.integer({ min: 30, max: 800 })),
          renewBeforeDays: sometimes(fc.integer({ min: 0, max: 60 })),
          extraSANs: sometimes(fc.uniqueArray(host, { maxLength: 3 })),
        },
        { requiredKeys: [] },
      ),
    ),
    paths: optional(fc.record({ etc: sometimes(dir), data: sometimes(dir), bin: sometimes(dir) }, { requiredKeys: [] })),
    kubernetes: optional(fc.record({ pkiDir: sometimes(dir), kubeadmApiVersion: sometimes(fc.constantFrom('kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4')) }, { requiredKeys: [] })),
  },
  { requiredKeys: ['name', 'etcd', 'nodes'] },
);

/** Drops undefined values, which YAML cannot say. */
const toYaml = (value: unknown): string => yaml.dump(JSON.parse(JSON.stringify(value)) as unknown);

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('fuzz', () => {
  it('builds a complete output or refuses cleanly, for any cluster.yaml of the right shape', async (t) => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'etcd-gen-fuzz-'));
    let built = 0;
    let refused = 0;
    try {
      await fc.assert(
        fc.asyncProperty(clusterConfig, async (config) => {
          const dir = mkdtempSync(path.join(root, 'run-'));
          try {
            const source = toYaml(config);
            writeFileSync(path.join(dir, 'cluster.yaml'), source);
            const out = path.join(dir, 'out');
            let result;
            try {
              result = await build({ configFile: path.join(dir, 'cluster.yaml'), outDir: out });
            } catch (err) {
              if (!(err instanceof InputError)) throw err;
              refused++;
              const lines = source.split('\n').length;
              for (const d of err.diagnostics) assert.ok(d.position.line >= 1 && d.position.line <= lines, `${d.position.line} is a line of the file`);
              assert.deepEqual(readdirSync(dir), ['cluster.yaml'], 'a refused build leaves nothing behind');
              return;
            }
            built++;
            // Complete: exactly the manifest's files, each with its mode and hash; no temporary files.
            const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
            const tree = readTree(out);
            assert.deepEqual([...tree.keys()].sort(), [...manifest.files.map((f) => f.path), 'manifest.json'].sort());
            const keyBodies = result.files.filter((f) => f.role === 'private-key').map((f) => f.contents.split('\n')[1] ?? '');
            // Key files, and the user-data that embeds the member's keys (and says so).
            const holdsKey = new Set(result.files.filter((f) => f.holdsPrivateKey).map((f) => f.path));
            for (const entry of manifest.files) {
              const f = tree.get(entry.path);
              assert.ok(f);
              assert.equal(sha256(f.contents), entry.sha256, entry.path);
              assert.equal(`0${f.mode.toString(8)}`, entry.mode, entry.path);
              // No private key outside a file that holds one by design.
              if (!holdsKey.has(entry.path)) {
                assert.doesNotMatch(f.contents, /PRIVATE KEY/, entry.path);
                for (const body of keyBodies) assert.ok(!f.contents.includes(body), `${entry.path} holds key material`);
              }
            }
            assert.ok(existsSync(path.join(dir, 'secrets', 'ca.key')));
            // Same input, same secrets: same bytes.
            const again = await build({ configFile: path.join(dir, 'cluster.yaml'), outDir: out });
            assert.deepEqual(again.report.written, [], 'a second build writes nothing');
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        { numRuns: 200 },
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    t.diagnostic(`${built} built, ${refused} refused`);
    // Both outcomes were exercised, or the generators have drifted.
    assert.ok(built >= 10 && refused >= 10, `${built} built, ${refused} refused`);
  });

  it('survives random edits of a valid cluster.yaml: a model and output, or diagnostics inside the file', (t) => {
    const valid = readFileSync(path.join(examplesDir, 'three-node', 'cluster.yaml'), 'utf8');
    const templates = compileTemplates(readTemplates());
    const yamlish = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(':', '- ', '{', '}', '[', ']', '&a ', '*a', '!!str ', '|', '>', "'", '"', '#', '\n', '  ', '\t', '---\n', '<<: ', '%YAML 1.2\n', '\\', '\u0000', '\u2028'));
    const edit = fc.oneof(
      fc.record({ at: fc.nat(), insert: yamlish }),
      fc.record({ at: fc.nat(), remove: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ at: fc.nat(), duplicateLine: fc.constant(true) }),
    );
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let source = valid;
        for (const e of edits) {
          const at = e.at % (source.length + 1);
          if ('insert' in e) source = source.slice(0, at) + e.insert + source.slice(at);
          else if ('remove' in e) source = source.slice(0, at) + source.slice(at + e.remove);
          else {
            const start = source.lastIndexOf('\n', at - 1) + 1;
            const end = source.indexOf('\n', at);
            const line = source.slice(start, end === -1 ? undefined : end + 1);
            source = source.slice(0, start) + line + source.slice(start);
          }
        }
        const lines = source.split('\n').length;
        let diagnostics;
        try {
          const doc = parseClusterSource(source, 'cluster.yaml');
          const checked = validateCluster(doc);
          diagnostics = checked.diagnostics;
          if (checked.config) {
            accepted++;
            const model = buildModel(checked.config, 'cluster.yaml');
            const pairs = new Map(certSpecs(model).map((spec) => [spec.id, { spec, certPem: 'C', keyPem: 'K', action: 'issued', reason: '', notBefore: new Date(0), notAfter: new Date(0), serialNumber: '1', fingerprint: '' } as const]));
            const files = renderOutput(model, pairs, 'C', templates);
            assert.ok(files.length > 10);
            for (const f of files) if (f.role !== 'certificate' && f.role !== 'private-key') assert.match(f.contents, /Generated by etcd-gen/, f.path);
          }
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          diagnostics = err.diagnostics;
        }
        for (const d of diagnostics) assert.ok(d.position.line >= 1 && d.position.line <= lines, `line ${d.position.line} of ${lines}: ${d.message}`);
      }),
      { numRuns: 500 },
    );
    t.diagnostic(`${accepted} of 500 edited files still valid`);
    assert.ok(accepted > 0, 'some edits leave a valid file');
  });
});
