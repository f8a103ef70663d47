import { randomUUID } from 'node:crypto';
import { fhirModel } from '../../fhir/definitions/model.js';
import type { Resource } from '../../fhir/resource.js';
import { validateBase } from '../../validation/profile/validate.js';
import { isObjectLine, messageOf, ndjsonLine, parseUnits, type Unit } from './parse.js';
import { repairCardinality } from './repair.js';
import { NDJSON_NAME, type Source } from './sources.js';
import { validateForImport } from './validate.js';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export interface ReadOptions {
  /** Check each resource against its Care Connect profile too (not only the STU3 definitions). */
  validate?: boolean;
  /** Do not repair the JSON shape of elements (see repair.ts); report such resources as bad instead. */
  strict?: boolean;
  /** Resources per batch (default 500). */
  batchSize?: number;
}

/** A resource ready to write, and where it came from. */
export interface Located {
  resource: Resource;
  position: string;
}

/**
 * What reading the sources yields, in order: batches of checked resources to write
 * directly, transaction and batch Bundles (for the server's transaction processing, which
 * resolves `urn:uuid:` references), bad input with its position, and the end of each source.
 */
export type ReadEvent =
  | { kind: 'resources'; file: string; items: Located[]; repaired: number }
  | { kind: 'bundle'; file: string; position: string; bundle: Resource }
  | { kind: 'error'; file: string; position: string; message: string }
  | { kind: 'read'; file: string; bytes: number };

/**
 * The reading half of an import, which needs no store: splits each source into units
 * (parse.ts), gives id-less resources an id, repairs element shapes unless strict, checks
 * each resource against the STU3 definitions (and with `validate` its Care Connect
 * profile), and batches the good ones. It runs on the main thread, or in a worker for
 * bulk loads (data/bulk/worker.ts) while the main thread writes.
 */
export async function* readSources(sources: readonly Source[], options: ReadOptions = {}): AsyncGenerator<ReadEvent> {
  const size = options.batchSize ?? 500;
  for (const source of sources) {
    let items: Located[] = [];
    let repaired = 0;
    const batch = (): ReadEvent => {
      const event: ReadEvent = { kind: 'resources', file: source.name, items, repaired };
      items = [];
      repaired = 0;
      return event;
    };
    let units: Iterable<Unit> | AsyncIterable<Unit>;
    let bytes = source.size ?? 0;
    if (source.lines && NDJSON_NAME.test(source.name)) {
      // NDJSON line by line: a file of any size (a string holds at most about 512 MB).
      units = ndjsonUnits(source.lines());
    } else if (source.lines && source.path === undefined) {
      // Standard input: line by line if its first line is a whole JSON object, else read whole.
      units = sniffedUnits(source.lines(), source.name);
    } else {
      let text: string;
      try {
        text = await source.read();
      } catch (err) {
        yield { kind: 'error', file: source.name, position: 'file', message: `cannot be read: ${messageOf(err)}` };
        yield { kind: 'read', file: source.name, bytes: 0 };
        continue;
      }
      bytes = source.size ?? text.length;
      units = parseUnits(text, source.name);
    }
    for await (const unit of units) {
      if (unit.kind === 'error') yield { kind: 'error', file: source.name, position: unit.position, message: unit.message };
      else if (unit.kind === 'bundle') {
        // Everything before the Bundle is written before it.
        if (items.length) yield batch();
        yield { kind: 'bundle', file: source.name, position: unit.position, bundle: unit.bundle };
      } else {
        const checked = check(unit.resource, options);
        if (typeof checked === 'string') yield { kind: 'error', file: source.name, position: unit.position, message: checked };
        else {
          if (checked.repaired) repaired++;
          items.push({ resource: unit.resource, position: unit.position });
          if (items.length >= size) yield batch();
        }
      }
    }
    if (items.length) yield batch();
    yield { kind: 'read', file: source.name, bytes };
  }
}

/** NDJSON line by line when the first non-blank line is a JSON object on its own; otherwise the whole text as parse.ts reads it. */
async function* sniffedUnits(lines: AsyncIterable<string>, name: string): AsyncGenerator<Unit> {
  const it = lines[Symbol.asyncIterator]();
  const head: string[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) {
    head.push(r.value);
    if (r.value.trim()) break;
  }
  const rest: AsyncIterable<string> = { [Symbol.asyncIterator]: () => it };
  if (isObjectLine(head[head.length - 1] ?? '')) {
    yield* ndjsonUnits(
      (async function* () {
        yield* head;
        yield* rest;
      })(),
    );
    return;
  }
  const all = [...head];
  for await (const line of rest) all.push(line);
  yield* parseUnits(all.join('\n'), name);
}

async function* ndjsonUnits(lines: AsyncIterable<string>): AsyncGenerator<Unit> {
  let n = 0;
  try {
    for await (const line of lines) yield* ndjsonLine(line, ++n);
  } catch (err) {
    // The file could not be read (or stopped being readable midway): what was read stands.
    yield { kind: 'error', message: `cannot be read: ${messageOf(err)}`, position: n ? `line ${n + 1}` : 'file' };
  }
}

/** Readies one resource for a direct write: an error message, or whether its shape was repaired. */
function check(resource: Resource, options: ReadOptions): string | { repaired: boolean } {
  const type = resource.resourceType;
  if (!fhirModel().isResourceType(type)) return `unknown resource type '${type}'`;
  if (resource.id === undefined) resource.id = randomUUID();
  if (typeof resource.id !== 'string' || !ID.test(resource.id)) return `${type} has an invalid id '${String(resource.id)}'`;
  // Whatever is written is checked against the STU3 definitions, as the server checks every
  // write (a resource that breaks them could not even be served as XML); --validate adds the
  // Care Connect profile.
  const repaired = options.strict ? false : repairCardinality(resource).length > 0;
  const issues = options.validate ? validateForImport(resource) : validateBase(resource);
  if (issues.length) return `${type}/${resource.id}: ${issues.map((i) => `${i.diagnostics}${i.expression ? ` (${i.expression.join(', ')})` : ''}`).join('; ')}`;
  return { repaired };
}
