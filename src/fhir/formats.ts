import { duplicateKey, parseJson } from './json.js';
import { FhirError, issue } from './outcome.js';
import { parseXml } from './xml.js';

/**
 * Content negotiation. https://hl7.org/fhir/STU3/http.html#mime-type
 * `_format` overrides `Accept`; JSON is the default.
 */
export type Format = 'json' | 'xml';

export const CONTENT_TYPE: Record<Format, string> = {
  json: 'application/fhir+json; charset=utf-8',
  xml: 'application/fhir+xml; charset=utf-8',
};

const FORMAT_NAMES: Record<string, Format> = {
  json: 'json',
  'application/json': 'json',
  'application/fhir+json': 'json',
  'application/json+fhir': 'json',
  'text/json': 'json',
  xml: 'xml',
  'application/xml': 'xml',
  'application/fhir+xml': 'xml',
  'application/xml+fhir': 'xml',
  'text/xml': 'xml',
};

function mediaType(value: string): string {
  return value.split(';')[0]!.trim().toLowerCase();
}

/** The response format from `_format` (wins) or `Accept`. */
export function responseFormat(formatParam: string | undefined, accept: string | undefined): Format {
  if (formatParam) {
    const f = FORMAT_NAMES[mediaType(formatParam)];
    if (!f) throw new FhirError(406, issue('not-supported', `_format '${formatParam}' is not supported: use json or xml`, '_format'));
    return f;
  }
  if (!accept) return 'json';
  // The first supported type in the client's order of preference (q-values respected).
  const ranked = accept
    .split(',')
    .map((part, i) => {
      const q = /;\s*q=([\d.]+)/.exec(part);
      return { type: mediaType(part), q: q ? Number(q[1]) : 1, i };
    })
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranked) {
    const f = FORMAT_NAMES[r.type];
    if (f) return f;
    if (r.type === '*/*' || r.type === 'application/*') return 'json';
  }
  return 'json';
}

/** The body format from `Content-Type`; anything else is a 415. */
export function requestFormat(contentType: string | undefined): Format {
  const f = contentType ? FORMAT_NAMES[mediaType(contentType)] : undefined;
  if (!f) {
    throw new FhirError(
      415,
      issue('not-supported', `Unsupported Content-Type '${contentType ?? '(none)'}': send application/fhir+json or application/fhir+xml`),
    );
  }
  return f;
}

export function parseBody(text: string, format: Format): Record<string, unknown> {
  const value = format === 'json' ? parseJson(text) : parseXml(text);
  if (format === 'json') {
    const twice = duplicateKey(text);
    if (twice !== undefined) throw new FhirError(400, issue('structure', `The body has the key '${twice.slice(0, 100)}' twice in one object; JSON keys must be unique (RFC 8259)`));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FhirError(400, issue('structure', 'The body must be a single FHIR resource (a JSON object)'));
  }
  if (tooDeep(value, MAX_NESTING)) {
    throw new FhirError(400, issue('structure', `The body nests objects more than ${MAX_NESTING} deep (contained resources included); this server accepts at most ${MAX_NESTING}`));
  }
  return value as Record<string, unknown>;
}

/**
 * The deepest a body's objects may nest, `contained` resources and all (the validator's own
 * limit). Checked here, without recursion, before anything walks the body recursively:
 * a Patient with `contained` nested 3,000 deep overflowed the validator's stack, and then
 * JSON.stringify's (issue 15, M3).
 */
export const MAX_NESTING = 64;

/** Whether `value` holds objects nested deeper than `limit` (arrays do not count), found without recursion. */
export function tooDeep(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const d = Array.isArray(v) ? depth : depth + 1;
    if (d > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, d]);
  }
  return false;
}
