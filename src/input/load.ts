/**
 * Stage 1, load: read cluster.yaml from disk and parse it into plain data plus a map from JSON pointers to
 * source positions, so later stages can point at the line a problem is on.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { fileDiagnostic, InputError, toPointer, type SourcePosition } from '../diagnostics.js';
import { messages } from '../messages.js';

/** Where a value, and the key naming it, stand in the source. */
export interface NodeLocation {
  value: SourcePosition;
  /** Set for mapping entries: the key's own position. */
  key?: SourcePosition;
}

export interface LoadedDocument {
  /** The file as the user named it, used in every diagnostic. */
  file: string;
  /** Base name of the file, used in generated headers (stable across machines). */
  fileName: string;
  /** Directory the file is in (for paths relative to it, such as the default secrets dir). */
  dir: string;
  data: unknown;
  locations: ReadonlyMap<string, NodeLocation>;
}

/** Inputs larger than this are refused before parsing: a cluster.yaml is a few kilobytes. */
export const MAX_INPUT_BYTES = 1024 * 1024;
/** Aliases are allowed for sharing, but not in the numbers an alias bomb needs. */
export const MAX_ALIASES = 100;
export const MAX_DEPTH = 32;

export async function loadClusterFile(file: string): Promise<LoadedDocument> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new InputError([fileDiagnostic(file, messages.notAFile)]);
    size = st.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError([fileDiagnostic(file, messages.cannotRead((err as NodeJS.ErrnoException).code ?? String(err)))]);
  }
  if (size > MAX_INPUT_BYTES) throw new InputError([fileDiagnostic(file, messages.tooLarge(size, MAX_INPUT_BYTES))]);
  const source = await readFile(file, 'utf8');
  return parseClusterSource(source, file);
}

/** Parses YAML text; pure, so tests and `--check` can use it without a file. */
export function parseClusterSource(source: string, file: string): LoadedDocument {
  const doc = {
    file,
    fileName: path.basename(file),
    dir: path.dirname(file),
  };
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  let data: unknown;
  let events: yaml.Event[];
  try {
    events = yaml.parseEvents(source, { filename: file, maxDepth: MAX_DEPTH });
    const docs = yaml.constructFromEvents(events, { source, filename: file, maxAliases: MAX_ALIASES, maxTotalMergeKeys: 1000 });
    if (docs.length !== 1) {
      throw new InputError([fileDiagnostic(file, docs.length === 0 ? messages.emptyDocument : messages.multipleDocuments)]);
    }
    data = docs[0];
  } catch (err) {
    if (err instanceof InputError) throw err;
    if (err instanceof yaml.YAMLException) {
      const mark = err.mark;
      throw new InputError([
        {
          severity: 'error',
          file,
          pointer: '',
          position: { line: (mark?.line ?? 0) + 1, column: (mark?.column ?? 0) + 1 },
          message: messages.yamlSyntax(err.reason),
        },
      ]);
    }
    throw err;
  }
  if (data === null || data === undefined) throw new InputError([fileDiagnostic(file, messages.emptyDocument)]);
  return { ...doc, data, locations: locateNodes(source, events) };
}

/** Maps character offsets to 1-based line and column. */
function positionFinder(source: string): (offset: number) => SourcePosition {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  return (at) => {
    // Always a real place in the file.
    const offset = Math.min(Math.max(0, Number.isFinite(at) ? at : 0), source.length);
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (lineStarts[lo] ?? 0) + 1 };
  };
}

/** The smallest offset that is one (js-yaml marks an absent part -1), or -1 when there is none. */
function earliest(offsets: number[]): number {
  const present = offsets.filter((n) => n >= 0);
  return present.length > 0 ? Math.min(...present) : -1;
}

/**
 * Where a node starts in the source: at its tag or anchor if it has one, else at its opening quote; -1
 * for an empty value (`key:` with nothing after it), which has no text of its own.
 */
function scalarStart(ev: yaml.ScalarEvent): number {
  const quoted = ev.style === yaml.SCALAR_STYLE.DOUBLE_QUOTED || ev.style === yaml.SCALAR_STYLE.SINGLE_QUOTED;
  return earliest([ev.anchorStart, ev.tagStart, quoted ? ev.valueStart - 1 : ev.valueStart]);
}

function collectionStart(ev: yaml.MappingEvent | yaml.SequenceEvent): number {
  return earliest([ev.anchorStart, ev.tagStart, ev.start]);
}

type Frame =
  | { kind: 'mapping'; pointer: (string | number)[]; position: SourcePosition; pendingKey: { name: string; position: SourcePosition } | null }
  | { kind: 'sequence'; pointer: (string | number)[]; position: SourcePosition; index: number };

/**
 * Walks the parser's flat event stream and records where each node starts, keyed by JSON pointer.
 * Keys that are not scalars cannot be addressed by a pointer and are skipped with their values.
 */
function locateNodes(source: string, events: readonly yaml.Event[]): Map<string, NodeLocation> {
  const at = positionFinder(source);
  const locations = new Map<string, NodeLocation>();
  const stack: Frame[] = [];
  let skipDepth = 0;

  // An empty value (start -1) is placed at its key, or at its list's start, or at the top of the file.
  const place = (start: number): (string | number)[] | null => {
    const parent = stack[stack.length - 1];
    if (!parent) {
      locations.set('', { value: start >= 0 ? at(start) : { line: 1, column: 1 } });
      return [];
    }
    if (parent.kind === 'sequence') {
      const ptr = [...parent.pointer, parent.index++];
      locations.set(toPointer(ptr), { value: start >= 0 ? at(start) : parent.position });
      return ptr;
    }
    const key = parent.pendingKey;
    parent.pendingKey = null;
    if (!key) return null;
    const ptr = [...parent.pointer, key.name];
    locations.set(toPointer(ptr), { key: key.position, value: start >= 0 ? at(start) : key.position });
    return ptr;
  };

  for (const ev of events) {
    if (skipDepth > 0) {
      if (ev.type === yaml.EVENT_ID.MAPPING || ev.type === yaml.EVENT_ID.SEQUENCE) skipDepth++;
      else if (ev.type === yaml.EVENT_ID.POP) skipDepth--;
      continue;
    }
    switch (ev.type) {
      case yaml.EVENT_ID.DOCUMENT:
        break;
      case yaml.EVENT_ID.POP:
        stack.pop();
        break;
      case yaml.EVENT_ID.SCALAR: {
        const parent = stack[stack.length - 1];
        if (parent?.kind === 'mapping' && parent.pendingKey === null) {
          const name = String(yaml.getScalarValue(source, ev));
          const start = scalarStart(ev);
          parent.pendingKey = { name, position: start >= 0 ? at(start) : parent.position };
          break;
        }
        place(scalarStart(ev));
        break;
      }
      case yaml.EVENT_ID.ALIAS: {
        const parent = stack[stack.length - 1];
        if (parent?.kind === 'mapping' && parent.pendingKey === null) {
          parent.pendingKey = { name: '\u0000alias', position: at(ev.anchorStart) };
          break;
        }
        place(ev.anchorStart);
        break;
      }
      case yaml.EVENT_ID.MAPPING:
      case yaml.EVENT_ID.SEQUENCE: {
        const parent = stack[stack.length - 1];
        if (parent?.kind === 'mapping' && parent.pendingKey === null) {
          // A complex key: nothing inside it is addressable, nor is its value.
          skipDepth = 1;
          break;
        }
        const ptr = place(collectionStart(ev));
        if (ptr === null) {
          skipDepth = 1;
          break;
        }
        const position = locate({ locations }, toPointer(ptr));
        stack.push(
          ev.type === yaml.EVENT_ID.MAPPING
            ? { kind: 'mapping', pointer: ptr, position, pendingKey: null }
            : { kind: 'sequence', pointer: ptr, position, index: 0 },
        );
        break;
      }
    }
  }
  return locations;
}

/**
 * The best source position for a pointer: the node itself, else its nearest located ancestor.
 * `preferKey` points at the key of a mapping entry (for "unknown field" problems).
 */
export function locate(doc: Pick<LoadedDocument, 'locations'>, pointer: string, preferKey = false): SourcePosition {
  let p = pointer;
  for (;;) {
    const loc = doc.locations.get(p);
    if (loc) return (preferKey && loc.key) || loc.value;
    if (p === '') return { line: 1, column: 1 };
    p = p.slice(0, p.lastIndexOf('/'));
  }
}
