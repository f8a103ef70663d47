import { parseXmlResource } from './xml-parse.js';
import { serializeXmlResource } from './xml-write.js';

/**
 * FHIR STU3 XML in and out, driven by the model.
 * https://hl7.org/fhir/STU3/xml.html (and https://hl7.org/fhir/STU3/json.html for the JSON form)
 *
 * Both directions use the JS form that {@link parseJson} gives: `resourceType` from the
 * root element's name, primitive values typed by their JSON type, a primitive's `id` and
 * extensions in its `_name` sibling (parallel arrays with nulls for repeating elements),
 * decimals kept exactly as written (see decimal.ts) and the narrative div as the string of
 * its outer XHTML.
 */

export { FHIR_NS, XHTML_NS } from './xml-write.js';

/**
 * Parses a FHIR STU3 XML resource into its JSON form (the form `parseJson` gives).
 * See https://hl7.org/fhir/STU3/xml.html.
 *
 * The input is treated as hostile: a DOCTYPE (hence any entity declaration) is refused,
 * nothing is expanded or fetched, only the five predefined entities and character
 * references are decoded, and nesting deeper than 100 elements is refused. Comments and
 * processing instructions are ignored.
 *
 * @throws FhirError (400, issue code `structure`) for XML that is not well-formed or does
 *   not fit the model (unknown elements, wrong namespace, missing value), naming the path.
 */
export function parseXml(text: string): Record<string, unknown> {
  return parseXmlResource(text);
}

/**
 * Serialises a resource (its JSON form) as FHIR STU3 XML, elements in definition order,
 * starting with `<?xml version="1.0" encoding="UTF-8"?>`. Decimals are written as they were
 * read. See https://hl7.org/fhir/STU3/xml.html.
 *
 * @param pretty indent the output (two spaces per level)
 * @throws FhirError (400, issue code `structure`) when the resource does not fit the model.
 */
export function serializeXml(resource: Record<string, unknown>, pretty = false): string {
  return serializeXmlResource(resource, pretty);
}
