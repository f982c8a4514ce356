/**
 * The pipeline, in order: load → validate → model → pki → render → write. Disk I/O happens only in
 * load, the secrets store and write; everything between is plain data in and out.
 */
import path from 'node:path';
import { InputError, type Diagnostic } from './diagnostics.js';
import { loadClusterFile } from './load.js';
import { buildModel, type ClusterModel } from './model.js';
import type { PkiResult } from './pki/index.js';
import { certSpecs } from './pki/profiles.js';
import type { OutputFile } from './render.js';
import { packageVersion, readTemplates } from './resources.js';
import { validateCluster } from './validate.js';
import { buildManifest, inspectOutput, OUTPUT_CA, writeOutput, type WriteReport } from './write.js';

export interface BuildOptions {
  configFile: string;
  outDir: string;
  /** Default: `secrets/` beside the config file. */
  secretsDir?: string;
  /** The clock certificates are issued by (tests set it). */
  now?: Date;
}

export interface BuildResult {
  model: ClusterModel;
  /** Warnings: a build with errors throws InputError instead. */
  diagnostics: Diagnostic[];
  pki: PkiResult;
  files: OutputFile[];
  secretsDir: string;
  secretsWritten: string[];
  report: WriteReport;
}

/** A path as the user will recognise it: relative to the working directory when below it. */
export function displayFile(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export function defaultSecretsDir(configFile: string): string {
  return path.join(path.dirname(configFile), 'secrets');
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const doc = await loadClusterFile(options.configFile);
  const validation = validateCluster(doc);
  if (!validation.config) throw new InputError(validation.diagnostics);
  const model = buildModel(validation.config, doc.fileName);

  // The later stages' libraries (crypto, templates) load only for input that got this far: refusals stay quick.
  const [{ runPki }, { readSecrets, secretFile, writeSecrets }, { compileTemplates, renderOutput }] = await Promise.all([
    import('./pki/index.js'),
    import('./pki/store.js'),
    import('./render.js'),
  ]);
  const secretsDir = options.secretsDir ?? defaultSecretsDir(options.configFile);
  const existing = await inspectOutput(options.outDir);
  const stored = await readSecrets(secretsDir, certSpecs(model).map((s) => s.id));
  const pki = await runPki({
    model,
    stored,
    secretPath: (id, ext) => displayFile(secretFile(secretsDir, id, ext)),
    previousCaPem: existing.caPem,
    previousCaPath: displayFile(path.join(options.outDir, OUTPUT_CA)),
    now: options.now ?? new Date(),
  });
  const files = renderOutput(model, pki.pairs, compileTemplates(readTemplates()));
  const manifest = buildManifest(files, { notice: model.notice, etcdGenVersion: packageVersion(), cluster: model.name });

  // Secrets first: if writing the output fails, the next build finds and reuses them.
  const secretsWritten = await writeSecrets(secretsDir, pki.pairs.values());
  const report = await writeOutput(options.outDir, files, manifest, existing.manifest);
  return {
    model,
    diagnostics: [...validation.diagnostics, ...pki.diagnostics],
    pki,
    files,
    secretsDir,
    secretsWritten,
    report,
  };
}

