/** How the cluster schema is compiled: shared by the run-time fallback and the ahead-of-time build step. */
import type { Ajv } from 'ajv';

export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true } as const;

/** Our own schema annotation: the fix to suggest when a pattern does not match. */
export function defineKeywords(ajv: Ajv): void {
  ajv.addKeyword({ keyword: 'x-fix', schemaType: 'string' });
}
