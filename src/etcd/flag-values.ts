/**
 * Whether etcd can read a flag's value: Go's own parsers, rewritten to accept and refuse exactly what
 * they do, for the value as etcd gets it. etcd reads each ETCD_* variable as a string and hands it to
 * the flag's flag.Value Set (go.etcd.io/etcd/pkg/v3/flags SetFlagsFromEnv; an empty variable is skipped),
 * which for Go's flag package calls strconv.ParseBool, ParseInt(s, 0, 64), ParseUint(s, 0, 64),
 * ParseFloat(s, 64) or time.ParseDuration (Go 1.26, which builds etcd 3.5.35, 3.6.16 and 3.7.3:
 * src/flag/flag.go, src/internal/strconv/atoi.go and atof.go, src/time/format.go). An error there stops
 * etcd at start ("invalid value ... parse error"). `int` and `uint` are Go's int and uint: 64 bits on
 * every platform etcd supports.
 */
import type { EtcdFlagKind } from '../resources.js';

import type { FlagValueProblem } from '../messages.js';

/** Why etcd refuses a value (the type lives with its message in src/messages.ts). */
export type { FlagValueProblem };

/** A value in etcd.extraFlags after the schema: what cluster.yaml's YAML gave. */
export type ExtraFlagValue = string | number | boolean;

/**
 * The text etcd reads for an etcd.extraFlags value: what memberSettings writes to etcd.conf (a YAML
 * number or boolean as JavaScript prints it, `16` for `0x10`, `true` for `true`), unquoted by systemd.
 */
export function extraFlagText(value: ExtraFlagValue): string {
  return String(value);
}

/**
 * Why etcd would refuse VALUE for a flag of KIND, or null when it reads it (or does not read it: a
 * `string` flag is not checked here, and an empty value is skipped by etcd).
 */
export function flagValueProblem(kind: EtcdFlagKind, value: ExtraFlagValue): FlagValueProblem | null {
  const text = extraFlagText(value);
  if (text === '') return null;
  switch (kind) {
    case 'bool':
      return goParseBool(text) === null ? 'syntax' : null;
    case 'int':
      return problemOf(goParseInt(text));
    case 'uint':
      return problemOf(goParseUint(text));
    case 'float':
      return problemOf(goParseFloat(text));
    case 'duration':
      return problemOf(goParseDuration(text));
    case 'string':
      return null;
  }
}

function problemOf(parsed: bigint | number | FlagValueProblem): FlagValueProblem | null {
  return typeof parsed === 'string' ? parsed : null;
}

/** strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False; null for anything else. */
export function goParseBool(s: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return null;
}

const MAX_UINT64 = (1n << 64n) - 1n;
const INT64_CUTOFF = 1n << 63n;

/**
 * strconv.ParseUint(s, 0, 64): decimal; 0x, 0o, 0b prefixes (either case); a leading 0 alone means octal
 * (`010` is 8, `09` is refused); underscores only between digits or after a prefix; no sign. The value,
 * or why it is refused.
 */
export function goParseUint(s: string): bigint | FlagValueProblem {
  if (s === '') return 'syntax';
  let base = 10n;
  let digits = s;
  if (s[0] === '0') {
    const prefix = s.length >= 3 ? asciiLower(s[1] ?? '') : undefined;
    if (prefix === 'b' || prefix === 'o' || prefix === 'x') {
      base = prefix === 'b' ? 2n : prefix === 'o' ? 8n : 16n;
      digits = s.slice(2);
    } else {
      base = 8n;
      digits = s.slice(1);
    }
  }
  let n = 0n;
  let underscores = false;
  for (const c of digits) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = digitValue(c);
    if (d === null || BigInt(d) >= base) return 'syntax';
    n = n * base + BigInt(d);
    if (n > MAX_UINT64) return 'range';
  }
  if (underscores && !underscoreOK(s)) return 'syntax';
  return n;
}

/** strconv.ParseInt(s, 0, 64): ParseUint's forms after an optional + or -, from -2^63 to 2^63-1. */
export function goParseInt(s: string): bigint | FlagValueProblem {
  if (s === '') return 'syntax';
  const neg = s[0] === '-';
  const magnitude = goParseUint(s[0] === '+' || s[0] === '-' ? s.slice(1) : s);
  if (typeof magnitude === 'string') return magnitude;
  if (neg ? magnitude > INT64_CUTOFF : magnitude >= INT64_CUTOFF) return 'range';
  return neg ? -magnitude : magnitude;
}

function digitValue(c: string): number | null {
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  const lower = asciiLower(c);
  if (lower >= 'a' && lower <= 'z') return lower.charCodeAt(0) - 87;
  return null;
}

/** strconv's underscoreOK: underscores only between digits, or between a base prefix and a digit. */
function underscoreOK(text: string): boolean {
  let s = text;
  // '^' start, '0' a digit or base prefix, '_' an underscore, '!' anything else.
  let saw = '^';
  let i = 0;
  if (s[0] === '-' || s[0] === '+') s = s.slice(1);
  let hex = false;
  const prefix = asciiLower(s[1] ?? '');
  if (s.length >= 2 && s[0] === '0' && (prefix === 'b' || prefix === 'o' || prefix === 'x')) {
    i = 2;
    saw = '0';
    hex = prefix === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    const lower = asciiLower(c);
    if ((c >= '0' && c <= '9') || (hex && lower >= 'a' && lower <= 'f')) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** time.ParseDuration's units, in nanoseconds (µs as U+00B5 and U+03BC). */
const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n],
  ['\u03bcs', 1_000n],
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

/**
 * time.ParseDuration: an optional sign, then one or more decimal numbers (a fraction allowed), each with
 * its unit (ns, us, µs, ms, s, m, h): `300ms`, `-1.5h`, `2h45m`; `0` alone needs no unit. At most
 * 2^63-1 ns (about 292 years). The nanoseconds, or why it is refused (`unit`: a number with no unit).
 */
export function goParseDuration(text: string): bigint | FlagValueProblem {
  let s = text;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return 'syntax';
  let d = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return 'syntax';
    // The whole part: Go fails on more than 2^63.
    let v = 0n;
    let i = 0;
    for (; i < s.length && isDigit(s[i]); i++) {
      v = v * 10n + BigInt(Number(s[i]));
      if (v > INT64_CUTOFF) return 'range';
    }
    const pre = i > 0;
    s = s.slice(i);
    // The fraction: Go stops adding digits once they would overflow, and counts its scale as a float64.
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let overflow = false;
      for (i = 0; i < s.length && isDigit(s[i]); i++) {
        if (overflow) continue;
        const next = f * 10n + BigInt(Number(s[i]));
        if (f > (INT64_CUTOFF - 1n) / 10n || next > INT64_CUTOFF) {
          overflow = true;
          continue;
        }
        f = next;
        scale *= 10;
      }
      post = i > 0;
      s = s.slice(i);
    }
    if (!pre && !post) return 'syntax';
    for (i = 0; i < s.length && s[i] !== '.' && !isDigit(s[i]); i++);
    // Go says "missing unit" for both; only a bare number gets the message that adds a unit to it.
    if (i === 0) return /^[+-]?[0-9.]+$/.test(text) ? 'unit' : 'syntax';
    const unit = DURATION_UNITS.get(s.slice(0, i));
    s = s.slice(i);
    if (unit === undefined) return 'syntax';
    if (v > INT64_CUTOFF / unit) return 'range';
    v *= unit;
    if (f > 0n) {
      // uint64(float64(f) * (float64(unit) / scale)), as Go computes it.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > INT64_CUTOFF) return 'range';
    }
    d += v;
    if (d > INT64_CUTOFF) return 'range';
  }
  if (!neg && d > INT64_CUTOFF - 1n) return 'range';
  return neg ? -d : d;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * strconv.ParseFloat(s, 64): decimal (`1`, `-0.5`, `.5`, `1e-3`), hexadecimal with a p exponent
 * (`0x1.8p1`), underscores as Go literals allow them, and Inf, Infinity, NaN in any case (a sign only on
 * the infinities). A value beyond float64 (`1e400`) is refused; one too small for it reads as 0. The
 * value (a hexadecimal one below 2^-1022 may differ from Go's in its last bit), or why it is refused.
 */
export function goParseFloat(s: string): number | FlagValueProblem {
  const special = /^([+-]?)(inf|infinity)$/i.exec(s);
  if (special) return special[1] === '-' ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  const unsigned = s[0] === '+' || s[0] === '-' ? s.slice(1) : s;
  // Go reads 0x as a prefix only when something follows it.
  const hex = /^0[xX]./.test(unsigned);
  const form = hex ? /^0[xX]([0-9a-fA-F_]*\.?[0-9a-fA-F_]*)[pP][+-]?[0-9][0-9_]*$/ : /^([0-9_]*\.?[0-9_]*)(?:[eE][+-]?[0-9][0-9_]*)?$/;
  const mantissa = form.exec(unsigned)?.[1];
  if (mantissa === undefined || !/[0-9a-fA-F]/.test(mantissa)) return 'syntax';
  if (s.includes('_') && !underscoreOK(s)) return 'syntax';
  const value = hex ? hexFloat(unsigned.replace(/_/g, '')) : Number(unsigned.replace(/_/g, ''));
  if (!Number.isFinite(value)) return 'range';
  return s[0] === '-' ? -value : value;
}

/**
 * The value of an unsigned hexadecimal float literal already checked (`0x1.8p1`): its digits as an
 * integer, times 2 to the exponent less 4 bits a fraction digit, rounded once to float64 (a sticky bit
 * stands for the digits past 64 bits), so a value beyond float64 is Infinity as in Go.
 */
function hexFloat(s: string): number {
  const m = /^0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?[0-9]+)$/.exec(s);
  if (!m) return NaN;
  const [, whole = '', fraction = '', exponent = '0'] = m;
  let digits = BigInt(`0x0${whole}${fraction}`);
  if (digits === 0n) return 0;
  // Exponents past any float64 are capped, as Go caps them at 10000.
  let power = Math.max(-20000, Math.min(20000, Number(exponent))) - 4 * fraction.length;
  const bits = digits.toString(2).length;
  if (bits > 64) {
    const dropped = digits & ((1n << BigInt(bits - 64)) - 1n);
    digits = (digits >> BigInt(bits - 64)) | (dropped === 0n ? 0n : 1n);
    power += bits - 64;
  }
  // Scaled in two steps: 2 ** power alone may overflow or underflow where the product does not.
  const half = Math.trunc(power / 2);
  return Number(digits) * 2 ** half * 2 ** (power - half);
}

/** Go's lower(c) for ASCII letters; anything else as it is. */
function asciiLower(c: string): string {
  return c >= 'A' && c <= 'Z' ? String.fromCharCode(c.charCodeAt(0) + 32) : c;
}
