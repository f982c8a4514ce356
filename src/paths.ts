/** Paths as etcd-gen shows and defaults them: a leaf, with no stage behind it. */
import path from 'node:path';

/** A path as the user will recognise it: relative to the working directory when below it. */
export function displayFile(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** The secrets directory when --secrets is not given: secrets/ beside the cluster.yaml. */
export function defaultSecretsDir(configFile: string): string {
  return path.join(path.dirname(configFile), 'secrets');
}
