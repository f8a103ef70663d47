import type { Session } from './session.js';
import { isRecord } from './values.js';

/**
 * Rules written in the specification's text rather than as invariants, and the
 * `mode` of $validate:
 * - update: the resource must have an id (https://hl7.org/fhir/STU3/http.html#update);
 * - a document Bundle starts with a Composition and has an identifier and a date,
 *   Bundle.meta.lastUpdated in STU3 (https://hl7.org/fhir/STU3/documents.html);
 * - a composite SearchParameter combines two or more components
 *   (https://hl7.org/fhir/STU3/searchparameter.html, type `composite`).
 */
export function checkBusinessRules(s: Session, resource: Record<string, unknown>, location: string, mode: string | undefined): void {
  if (mode === 'update' && typeof resource.id !== 'string') {
    s.report('error', 'required', `${location}.id`, 'a resource to be updated must have an id');
  }
  if (resource.resourceType === 'Bundle') checkBundle(s, resource, location);
  forEachResource(resource, location, (r, at) => {
    if (r.resourceType === 'SearchParameter' && r.type === 'composite') {
      const n = Array.isArray(r.component) ? r.component.length : 0;
      if (n < 2) s.report('error', 'business-rule', at, `a composite SearchParameter must define two or more components, but this one has ${n}`);
    }
  });
}

function checkBundle(s: Session, bundle: Record<string, unknown>, location: string): void {
  if (bundle.type !== 'document') return;
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const first = isRecord(entries[0]) ? entries[0].resource : undefined;
  if (!isRecord(first) || first.resourceType !== 'Composition') {
    s.report('error', 'invalid', `${location}.entry[0]`, 'the first entry of a document Bundle must be a Composition');
  }
  if (!isRecord(bundle.identifier)) s.report('error', 'required', `${location}.identifier`, 'a document Bundle must have an identifier');
  const meta = bundle.meta;
  if (!isRecord(meta) || typeof meta.lastUpdated !== 'string') {
    s.report('error', 'required', `${location}.meta.lastUpdated`, 'a document must have a date (Bundle.meta.lastUpdated, when the document was assembled)');
  }
}

/** The resource and the resources nested in it (Bundle entries, contained), with their locations. */
function forEachResource(r: Record<string, unknown>, at: string, fn: (r: Record<string, unknown>, at: string) => void): void {
  fn(r, at);
  if (Array.isArray(r.contained)) r.contained.forEach((c, i) => isRecord(c) && forEachResource(c, `${at}.contained[${i}]`, fn));
  if (r.resourceType === 'Bundle' && Array.isArray(r.entry)) {
    r.entry.forEach((e, i) => {
      if (isRecord(e) && isRecord(e.resource)) forEachResource(e.resource, `${at}.entry[${i}].resource`, fn);
    });
  }
}
