import { parseJson, stringifyJson } from '../fhir/json.js';
import { serializeXml } from '../fhir/xml.js';
import { bundleToJson, materialise } from '../interactions/bundle.js';
import type { Body } from '../interactions/types.js';
import type { Format } from '../fhir/formats.js';

/**
 * Writes a response body in the negotiated format. JSON from the store is sent as
 * stored (the read hot path does no parse and no stringify); XML is produced from
 * the parsed form. `_pretty` re-indents.
 */
export function renderBody(body: Exclude<Body, { file: string }>, format: Format, pretty: boolean): string {
  if (format === 'json') {
    if ('json' in body) return pretty ? stringifyJson(parseJson(body.json), true) : body.json;
    if ('resource' in body) return stringifyJson(body.resource, pretty);
    return bundleToJson(body.bundle, pretty);
  }
  if ('json' in body) return serializeXml(parseJson(body.json) as Record<string, unknown>, pretty);
  if ('resource' in body) return serializeXml(body.resource, pretty);
  return serializeXml(materialise(body.bundle), pretty);
}
