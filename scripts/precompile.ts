/**
 * Build step (npm run build / prepare): compiles the JSON Schema into a standalone ajv validator and the
 * templates into Handlebars template specs, so the CLI loads neither ajv nor the Handlebars compiler at
 * run time. Both land in dist/src/generated/ as CommonJS modules that src/ requires synchronously.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { AJV_OPTIONS, defineKeywords } from '../src/input/schema-options.js';
import { COMPILE_OPTIONS } from '../src/render/template-options.js';
import { clusterSchema, readTemplates } from '../src/resources.js';

const out = fileURLToPath(new URL('../src/generated', import.meta.url));
mkdirSync(out, { recursive: true });

const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
defineKeywords(ajv);
const validate = ajv.compile(clusterSchema());
writeFileSync(path.join(out, 'cluster-validator.cjs'), `// Generated from schema/cluster.schema.json by scripts/precompile.ts.\n${standaloneCode.default(ajv, validate)}\n`);

const specs = [...readTemplates()].filter(([name]) => name.endsWith('.hbs')).map(([name, source]) => `  ${JSON.stringify(name)}: ${Handlebars.precompile(source, COMPILE_OPTIONS)}`);
writeFileSync(path.join(out, 'templates.cjs'), `// Generated from templates/ by scripts/precompile.ts.\nmodule.exports = {\n${specs.join(',\n')}\n};\n`);
