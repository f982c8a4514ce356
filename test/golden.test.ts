/**
 * Golden trees: every example is built into a temporary directory and compared, file by file and mode by
 * mode, with test/golden/<example>/. Key material is random, so PEM bodies (and their hashes in the
 * manifest), and the certificate fingerprints of expected.json, are masked; the clock is fixed, so dates are not. `npm run golden:update` rewrites the trees.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { build } from '../src/pipeline.js';
import { examplesDir, fixedSecrets, readTree, repoRoot, tempDir, type TreeFile } from './helpers.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const goldenDir = path.join(repoRoot, 'test', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

export function maskTree(tree: Map<string, TreeFile>): Map<string, TreeFile> {
  const masked = new Map<string, TreeFile>();
  for (const [file, f] of tree) {
    let contents = f.contents.replace(/(-----BEGIN ([A-Z ]+)-----\n)[\s\S]*?(-----END \2-----)/g, '$1<masked>\n$3');
    // expected.json holds the certificates' fingerprints: as machine-bound as the keys themselves.
    if (file === 'expected.json') contents = contents.replace(/[0-9A-F]{2}(:[0-9A-F]{2}){31}/g, '<masked>');
    if (file === 'manifest.json') {
      const manifest = JSON.parse(contents) as { etcdGenVersion: string; files: { role: string; sha256: string }[] };
      manifest.etcdGenVersion = '<version>';
      for (const entry of manifest.files) if (['certificate', 'private-key', 'cloud-init', 'expected-state'].includes(entry.role)) entry.sha256 = '<masked>';
      contents = `${JSON.stringify(manifest, null, 2)}\n`;
    }
    masked.set(file, { contents, mode: f.mode });
  }
  return masked;
}

/**
 * A generated .gitignore would act on the golden tree itself (and hide its masked key files from git),
 * so the golden tree keeps it as `_.gitignore`.
 */
const toGolden = (file: string): string => file.replace(/(^|\/)\.gitignore$/, '$1_.gitignore');
const fromGolden = (file: string): string => file.replace(/(^|\/)_\.gitignore$/, '$1.gitignore');

function readGolden(dir: string): Map<string, TreeFile> {
  const tree = new Map<string, TreeFile>();
  const modes = new Map(
    readFileSync(`${dir}.modes`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [mode, file] = line.split(' ');
        return [file ?? '', parseInt(mode ?? '0', 8)] as const;
      }),
  );
  for (const [file, f] of readTree(dir)) tree.set(fromGolden(file), { contents: f.contents, mode: modes.get(fromGolden(file)) ?? -1 });
  return new Map([...tree].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function writeGolden(dir: string, tree: Map<string, TreeFile>): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [file, f] of tree) {
    mkdirSync(path.dirname(path.join(dir, toGolden(file))), { recursive: true });
    writeFileSync(path.join(dir, toGolden(file)), f.contents);
  }
  writeFileSync(`${dir}.modes`, [...tree].map(([file, f]) => `0${f.mode.toString(8)} ${file}`).join('\n') + '\n');
}

const examples = readdirSync(examplesDir).filter((name) => existsSync(path.join(examplesDir, name, 'cluster.yaml')));

describe('golden output trees', () => {
  it('has examples to check', () => assert.ok(examples.length >= 2));
  for (const example of examples) {
    it(`examples/${example} builds to test/golden/${example}`, async (t) => {
      const dir = tempDir(t);
      const out = path.join(dir, 'out');
      const secretsDir = path.join(dir, 'secrets');
      cpSync(await fixedSecrets(readFileSync(path.join(examplesDir, example, 'cluster.yaml'), 'utf8'), NOW), secretsDir, { recursive: true });
      await build({ configFile: path.join(examplesDir, example, 'cluster.yaml'), outDir: out, secretsDir, now: NOW });
      const actual = maskTree(readTree(out));
      const golden = path.join(goldenDir, example);
      if (update) writeGolden(golden, actual);
      assert.ok(existsSync(golden), `no golden tree: run npm run golden:update and review test/golden/${example}`);
      const expected = readGolden(golden);
      assert.deepEqual([...actual.keys()], [...expected.keys()], 'the same files');
      for (const [file, f] of actual) {
        assert.equal(f.contents, expected.get(file)?.contents, `contents of ${file} (npm run golden:update to accept)`);
        assert.equal(f.mode.toString(8), expected.get(file)?.mode.toString(8), `mode of ${file}`);
      }
    });
  }

  it('masking hides key material and nothing else', () => {
    const tree = new Map([
      ['a.key', { contents: '-----BEGIN PRIVATE KEY-----\nABC\n-----END PRIVATE KEY-----\n', mode: 0o600 }],
      ['b.conf', { contents: 'X=1\n', mode: 0o644 }],
    ]);
    const masked = maskTree(tree);
    assert.equal(masked.get('a.key')?.contents, '-----BEGIN PRIVATE KEY-----\n<masked>\n-----END PRIVATE KEY-----\n');
    assert.equal(masked.get('b.conf')?.contents, 'X=1\n');
  });
});
