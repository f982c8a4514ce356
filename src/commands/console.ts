/**
 * What a command prints, and where: results on stdout, progress and diagnostics on stderr, JSON on stdout
 * with --json. Made once per run from the global flags and the streams (nothing is read at import time),
 * so commands can run in-process, in tests, with streams of their own.
 */
import { formatDiagnostic, type Diagnostic } from '../diagnostics.js';

/**
 * Exit codes: 0 success; 1 a check found something to act on; 2 bad input, usage, or an unreadable or
 * unwritable path; 3 a bug; 4 `status` found no quorum (no member answered a linearizable read).
 */
export const EXIT_OK = 0;
export const EXIT_ATTENTION = 1;
export const EXIT_INPUT = 2;
export const EXIT_INTERNAL = 3;
export const EXIT_NO_QUORUM = 4;

export interface Streams {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
}

export type FailureKind = 'usage' | 'io' | 'internal';

/** A diagnostic as --json prints it. */
export function diagnosticJson(d: Diagnostic) {
  return { severity: d.severity, file: d.file, line: d.position.line, column: d.position.column, path: d.pointer, message: d.message };
}

export class Console {
  quiet = false;
  json: boolean;
  readonly io: Streams;
  private readonly color: boolean;

  /** `json` is known before yargs has parsed (a usage failure is printed as JSON too). */
  constructor(io: Streams, json: boolean) {
    this.io = io;
    this.json = json;
    this.color = io.stderr.isTTY === true && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  }

  private paint(code: number, text: string): string {
    return this.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  }

  /** Progress and summaries, on stderr; --quiet and --json silence them. */
  say(line: string): void {
    if (!this.quiet && !this.json) this.io.stderr.write(`${line}\n`);
  }

  /** A line on stderr that is the answer itself (the list of --check): shown even with --quiet. */
  tell(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Problems are always shown (on stderr), warnings too unless --quiet; with --json they go into the JSON. */
  printDiagnostics(diagnostics: readonly Diagnostic[]): void {
    if (this.json) return;
    for (const d of diagnostics) {
      if (d.severity === 'warning' && this.quiet) continue;
      const line = formatDiagnostic(d);
      this.io.stderr.write(`${d.severity === 'warning' ? this.paint(33, line) : this.paint(31, line)}\n`);
    }
  }

  /**
   * A failure that is not about a line of the input: a usage error, a file that cannot be read or written,
   * or a bug. Always printed, whatever --quiet says: one `etcd-gen: ...` line on stderr, or under --json
   * `{ ok: false, error: { kind, message }, diagnostics: [] }` on stdout.
   */
  printFailure(kind: FailureKind, message: string, hint?: string): void {
    if (this.json) this.printJson({ ok: false, error: { kind, message }, diagnostics: [] });
    else this.io.stderr.write(`etcd-gen: ${message}\n${hint ? `${hint}\n` : ''}`);
  }

  /** Progress only for a person watching: on a terminal, not in CI, not with --quiet or --json. */
  showProgress(): boolean {
    return this.io.stderr.isTTY === true && !this.io.env.CI && !this.quiet && !this.json;
  }

  /** A key-generation counter on a terminal: RSA-4096 keys take seconds each; a single key needs none. */
  keyProgress(done: number, total: number): void {
    if (total < 2) return;
    this.io.stderr.write(`\r\u001b[2Ketcd-gen: generating keys ${done}/${total}${done === total ? '\n' : ''}`);
  }
}
