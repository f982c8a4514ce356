/**
 * Diagnostics: every problem etcd-gen reports about its input, with a JSON path and a source position.
 * Stages collect them and the build fails once, with all of them.
 */

export type Severity = 'error' | 'warning';

export interface SourcePosition {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

export interface Diagnostic {
  severity: Severity;
  /** File the problem is in, as the user named it. */
  file: string;
  /** JSON pointer into the document ('' is the root). */
  pointer: string;
  position: SourcePosition;
  message: string;
}

/** Thrown by a stage when the input cannot go further; carries every diagnostic found so far. */
export class InputError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'InputError';
    this.diagnostics = diagnostics;
  }
}

/** Splits a JSON pointer into its unescaped segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Joins segments into a JSON pointer, escaping '~' and '/'. */
export function toPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** A JSON pointer as people read it: `$.nodes[1].host`. */
export function displayPath(pointer: string): string {
  let out = '$';
  for (const seg of pointerSegments(pointer)) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A problem with a whole file (not one of its fields): at its line 1, column 1. */
export function fileDiagnostic(file: string, message: string, severity: Severity = 'error'): Diagnostic {
  return { severity, file, pointer: '', position: { line: 1, column: 1 }, message };
}

/** `FILE:LINE:COL: path: message`, warnings marked as such. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.position.line}:${d.position.column}`;
  const severity = d.severity === 'warning' ? ' warning:' : '';
  return `${where}:${severity} ${displayPath(d.pointer)}: ${d.message}`;
}

/** A command line that cannot work as given (an option naming something that does not exist). */
export class UsageError extends Error {
  /** A second line that says where to read more (yargs' own usage failures point at --help). */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}
