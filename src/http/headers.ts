import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from '../fhir/outcome.js';
import type { FhirRequest, Preconditions, ReturnPreference } from '../interactions/types.js';

/** The version number inside an ETag: `W/"3"` or `"3"` -> 3. */
function versionOf(etag: string, header: string): number {
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(etag.trim());
  if (!m) throw badRequest(`${header} must be an ETag such as W/"3", not '${etag}'`, header);
  return Number(m[1]);
}

/** If-Match, If-None-Match, If-Modified-Since and If-None-Exist. https://hl7.org/fhir/STU3/http.html#concurrency */
export function preconditions(headers: IncomingHttpHeaders): Preconditions {
  const p: Preconditions = {};
  const ifMatch = headers['if-match'];
  if (typeof ifMatch === 'string' && ifMatch) p.ifMatch = versionOf(ifMatch, 'If-Match');
  const ifNoneMatch = headers['if-none-match'];
  if (typeof ifNoneMatch === 'string' && ifNoneMatch) p.ifNoneMatch = ifNoneMatch.trim() === '*' ? '*' : String(versionOf(ifNoneMatch, 'If-None-Match'));
  const ims = headers['if-modified-since'];
  if (typeof ims === 'string' && ims) {
    const t = Date.parse(ims);
    if (Number.isNaN(t)) throw badRequest(`If-Modified-Since must be an HTTP date, not '${ims}'`, 'If-Modified-Since');
    p.ifModifiedSince = t;
  }
  const ifNoneExist = headers['if-none-exist'];
  if (typeof ifNoneExist === 'string' && ifNoneExist) p.ifNoneExist = ifNoneExist;
  return p;
}

/** `Prefer: return=minimal|representation|OperationOutcome` and `handling=strict|lenient`. */
export function preferences(header: string | undefined): FhirRequest['prefer'] {
  const prefer: FhirRequest['prefer'] = {};
  if (!header) return prefer;
  for (const part of header.split(/[,;]/)) {
    const [k, v] = part.split('=').map((s) => s.trim().replace(/^"|"$/g, '')) as [string, string | undefined];
    if (k === 'return' && (v === 'minimal' || v === 'representation' || v === 'OperationOutcome')) prefer.return = v as ReturnPreference;
    if (k === 'handling' && (v === 'strict' || v === 'lenient')) prefer.strict = v === 'strict';
    if (k === 'respond-async' && v === undefined) prefer.respondAsync = true;
  }
  return prefer;
}
