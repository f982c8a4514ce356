/**
 * The TypeScript type of a valid cluster.yaml, generated from schema/cluster.schema.json by
 * json-schema-to-typescript, so the type and the schema cannot say two things. `npm run schema:types`
 * writes src/input/cluster-schema.generated.ts; test/schema-types.test.ts fails when it is not what the
 * schema gives (change the schema, then run the script).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { clusterSchema } from '../src/resources.js';

export const GENERATED_TYPES = fileURLToPath(new URL('../../src/input/cluster-schema.generated.ts', import.meta.url));

/** The generated module's text: one exported interface, `EtcdGenClusterYaml` (the schema's title). */
export async function configTypeSource(): Promise<string> {
  const banner = '/* Generated from schema/cluster.schema.json by scripts/schema-types.ts (npm run schema:types): do not edit. */';
  return compile(clusterSchema() as JSONSchema, 'ClusterYaml', {
    bannerComment: banner,
    additionalProperties: false,
    ignoreMinAndMaxItems: true,
    strictIndexSignatures: false,
    unknownAny: true,
    style: { singleQuote: true, printWidth: 120 },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(GENERATED_TYPES, await configTypeSource());
  process.stdout.write(`wrote ${GENERATED_TYPES}\n`);
}
