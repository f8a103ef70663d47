import { parseBody, requestFormat } from '../fhir/formats.js';
import type { FhirRequest, Incoming, Method } from '../interactions/types.js';
import type { Target } from './route.js';

/**
 * The FhirRequest of a routed request. A body that came as text is parsed now that the
 * route is known: a form-encoded body of a search adds to the query
 * (https://hl7.org/fhir/STU3/http.html#search), anything else is a FHIR resource in the
 * format its Content-Type names.
 */
export function fhirRequest(incoming: Incoming, target: Target): FhirRequest {
  const method = incoming.method as Method;
  const req: FhirRequest = { method, ...target.fields, query: incoming.query, preconditions: incoming.preconditions, prefer: incoming.prefer };
  if (incoming.body) req.body = incoming.body;
  else if (incoming.text?.body && (method === 'POST' || method === 'PUT')) {
    const { body, contentType } = incoming.text;
    if (target.code.startsWith('search') && contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      req.query = [...incoming.query, ...new URLSearchParams(body)];
    } else {
      req.body = parseBody(body, requestFormat(contentType)) as FhirRequest['body'];
    }
  }
  return req;
}
