/** The config type is generated from the JSON Schema: the committed file must be what the schema gives. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { configTypeSource, GENERATED_TYPES } from '../scripts/schema-types.js';

it('src/input/cluster-schema.generated.ts is what schema/cluster.schema.json gives (npm run schema:types)', async () => {
  assert.equal(readFileSync(GENERATED_TYPES, 'utf8'), await configTypeSource(), 'the schema changed: run npm run schema:types and commit the result');
});
