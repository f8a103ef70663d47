import { badRequest } from '../fhir/outcome.js';
import type { FhirRequest, Resource } from '../interactions/types.js';

/**
 * An operation's input parameters, from the query string and (for POST) from a
 * Parameters body, as STU3 allows both: https://hl7.org/fhir/STU3/operations.html#request
 * Primitive parts are read as their text; `resource` parts and parts with nested parts
 * are kept as they are.
 */
export interface OperationParams {
  /** The text values of a primitive parameter, in order. */
  all(name: string): string[];
  /** The one text value of a parameter (400 when it is given more than once). */
  one(name: string): string | undefined;
  /** A parameter's parts as sent in the Parameters body (complex values, resources). */
  parts(name: string): Array<Record<string, unknown>>;
  /** The names of every parameter sent. */
  names(): string[];
  /** The query parameters that paging links repeat (the body's, for POST, as query parameters). */
  canonical(exclude?: readonly string[]): Array<[string, string]>;
}

/** Parameters that only shape the HTTP response, never the operation. */
const FORMAT = new Set(['_format', '_pretty', '_cursor']);

export function operationParams(req: FhirRequest, operation: string): OperationParams {
  const text: Array<[string, string]> = [];
  const complex = new Map<string, Array<Record<string, unknown>>>();
  for (const [k, v] of req.query) {
    if (k.includes('\u0000') || v.includes('\u0000')) throw badRequest(`The parameter ${k.replace(/\u0000/g, '\\0').slice(0, 100)} holds a NUL character`, k);
    text.push([k, v]);
  }
  const body = req.body;
  if (body !== undefined) {
    if (body.resourceType !== 'Parameters') throw badRequest(`${operation} takes a Parameters resource as its body, not a ${String(body.resourceType)}`, 'resourceType');
    const list = Array.isArray(body.parameter) ? (body.parameter as unknown[]) : [];
    for (const raw of list) {
      if (!raw || typeof raw !== 'object') continue;
      const p = raw as Record<string, unknown>;
      const name = p.name;
      if (typeof name !== 'string') throw badRequest(`Every parameter of ${operation} needs a name`, 'Parameters.parameter.name');
      const value = primitiveValue(p);
      if (value !== undefined) text.push([name, value]);
      else {
        if (!complex.has(name)) complex.set(name, []);
        complex.get(name)!.push(p);
      }
    }
  }
  return {
    all: (name) => text.filter(([k]) => k === name).map(([, v]) => v),
    one(name) {
      const values = text.filter(([k]) => k === name).map(([, v]) => v);
      if (values.length > 1) throw badRequest(`${operation}: the parameter ${name} may be given once only`, name);
      return values[0];
    },
    parts: (name) => complex.get(name) ?? [],
    names: () => [...new Set([...text.map(([k]) => k), ...complex.keys()])],
    canonical: (exclude = []) => text.filter(([k]) => !FORMAT.has(k) && !exclude.includes(k)),
  };
}

/** The value of a primitive `value[x]` part, as text. */
function primitiveValue(p: Record<string, unknown>): string | undefined {
  for (const [k, v] of Object.entries(p)) {
    if (!k.startsWith('value')) continue;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return undefined;
}

/** A resource sent as the `resource` part (or another named part) of a Parameters body. */
export function resourcePart(params: OperationParams, name: string): Resource | undefined {
  const part = params.parts(name)[0];
  const r = part?.resource;
  return r && typeof r === 'object' ? (r as Resource) : undefined;
}

/** A boolean parameter: true or false, 400 otherwise. */
export function booleanParam(params: OperationParams, name: string, operation: string): boolean | undefined {
  const v = params.one(name);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw badRequest(`${operation}: ${name} must be true or false, not '${v}'`, name, 'value');
  return v === 'true';
}

/** A non-negative integer parameter (at most `max`), 400 otherwise. */
export function integerParam(params: OperationParams, name: string, operation: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = params.one(name);
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw badRequest(`${operation}: ${name} must be a non-negative integer, not '${v.slice(0, 50)}'`, name, 'value');
  const n = Number(v);
  if (n > max) throw badRequest(`${operation}: ${name} may be at most ${max}`, name, 'value');
  return n;
}
