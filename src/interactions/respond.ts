import { type Issue, operationOutcome } from '../fhir/outcome.js';
import type { StoredVersion } from '../store/store.js';
import { etagOf } from './bundle.js';
import type { FhirRequest, FhirResponse } from './types.js';

/**
 * The response to a write, shaped by `Prefer: return=minimal | representation |
 * OperationOutcome`. https://hl7.org/fhir/STU3/http.html#ops
 */
export function writeResponse(req: FhirRequest, baseUrl: string, status: number, v: StoredVersion, message: string, warnings: Issue[] = []): FhirResponse {
  const res: FhirResponse = {
    status,
    etag: etagOf(v.version),
    lastModified: v.lastUpdated,
    location: `${baseUrl}/${v.type}/${v.id}/_history/${v.version}`,
  };
  const wanted = req.prefer.return ?? 'representation';
  if (wanted === 'representation' && v.json) res.body = { json: v.json };
  else if (wanted === 'OperationOutcome') res.body = { resource: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: message }, ...warnings.map(asWarning)]) as never };
  return res;
}

/** A write that succeeded reports what was wrong with it as warnings: an error would say it failed. */
function asWarning(i: Issue): Issue {
  return i.severity === 'error' || i.severity === 'fatal' ? { ...i, severity: 'warning' } : i;
}
