import { parseJson } from '../../fhir/json.js';
import { parseXml } from '../../fhir/xml.js';
import type { Resource } from '../../fhir/resource.js';

/** One thing to load, and where it came from. */
export type Unit =
  | { kind: 'resource'; resource: Resource; position: string }
  | { kind: 'bundle'; bundle: Resource; position: string }
  | { kind: 'error'; message: string; position: string };

/**
 * Splits a source's text into units: NDJSON (one resource per line), a JSON or XML
 * resource, or a Bundle. Transaction and batch Bundles stay whole (they go through
 * the server's transaction processing); the entries of any other Bundle (collection,
 * searchset, document) are loaded one by one. Positions are "line N" for NDJSON and
 * "entry N" (from 0, as in Bundle.entry[N]) for Bundle entries.
 */
export function* parseUnits(text: string, name: string): Generator<Unit> {
  const trimmed = text.trimStart();
  if (!trimmed) return;
  if (trimmed.startsWith('<')) {
    let parsed: Record<string, unknown>;
    try {
      parsed = parseXml(trimmed);
    } catch (err) {
      yield { kind: 'error', message: messageOf(err), position: 'file' };
      return;
    }
    yield* fromTop(parsed as Resource, 'file');
    return;
  }
  if (/\.(ndjson|jsonl)$/i.test(name) || looksLikeNdjson(trimmed)) {
    yield* ndjson(text);
    return;
  }
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch (err) {
    yield { kind: 'error', message: messageOf(err), position: 'file' };
    return;
  }
  yield* fromTop(parsed as Resource, 'file');
}

/** More than one line that starts a JSON object. */
function looksLikeNdjson(text: string): boolean {
  const first = text.indexOf('\n');
  return first >= 0 && isObjectLine(text.slice(0, first));
}

/** Whether a line holds one whole JSON object (the first line of NDJSON does). */
export function isObjectLine(line: string): boolean {
  const t = line.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/** The units of one NDJSON line (`line` counts from 1); none for a blank line. */
export function* ndjsonLine(text: string, line: number): Generator<Unit> {
  const raw = text.trim();
  if (!raw) return;
  const position = `line ${line}`;
  let parsed: unknown;
  try {
    parsed = parseJson(raw);
  } catch (err) {
    yield { kind: 'error', message: messageOf(err), position };
    return;
  }
  yield* fromTop(parsed as Resource, position);
}

function* ndjson(text: string): Generator<Unit> {
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end);
    start = end + 1;
    if (!raw.trim() && end >= text.length) break;
    yield* ndjsonLine(raw, line);
  }
}

function* fromTop(value: Resource, position: string): Generator<Unit> {
  if (!value || typeof value !== 'object' || Array.isArray(value) || typeof value.resourceType !== 'string') {
    yield { kind: 'error', message: 'not a FHIR resource (no resourceType)', position };
    return;
  }
  if (value.resourceType !== 'Bundle') {
    yield { kind: 'resource', resource: value, position };
    return;
  }
  if (value.type === 'transaction' || value.type === 'batch') {
    yield { kind: 'bundle', bundle: value, position };
    return;
  }
  const entries = Array.isArray(value.entry) ? (value.entry as Array<Record<string, unknown>>) : [];
  for (let i = 0; i < entries.length; i++) {
    const where = position === 'file' ? `entry ${i}` : `${position} entry ${i}`;
    const r = entries[i]?.resource as Resource | undefined;
    if (!r || typeof r !== 'object') yield { kind: 'error', message: 'the entry has no resource', position: where };
    else yield { kind: 'resource', resource: r, position: where };
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
