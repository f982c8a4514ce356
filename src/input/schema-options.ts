/** How the cluster schema is compiled: shared by the run-time fallback and the ahead-of-time build step. */
import type { Ajv } from 'ajv';

// allowUnionTypes: etcd.extraFlags takes a string, a whole number or true/false as one type list, so a bad value gets one
// message with its fix.
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, allowUnionTypes: true } as const;

/** Our own schema annotation: the fix to suggest when a pattern does not match. */
export function defineKeywords(ajv: Ajv): void {
  ajv.addKeyword({ keyword: 'x-fix', schemaType: 'string' });
}
