import { parseJson } from '../fhir/json.js';
import { gone, notFound } from '../fhir/outcome.js';
import { isSubsetting, parseReadSubsetting, type Subsetting } from '../search/parse/subset.js';
import type { StoredVersion } from '../store/store.js';
import { etagOf } from './bundle.js';
import { requireId, requireType, requireVersion } from './checks.js';
import { subset } from './summary.js';
import type { FhirRequest, FhirResponse, Interaction, Resource } from './types.js';

/**
 * read: the current version, 410 once deleted, 304 for a matching If-None-Match
 * or an unchanged If-Modified-Since; `_summary` and `_elements` as in a search (the
 * part returned tagged SUBSETTED). https://hl7.org/fhir/STU3/http.html#read
 */
export const read: Interaction = async (req, ctx) => {
  const type = requireType(req);
  const id = requireId(req.id);
  const subsetting = parseReadSubsetting(req.query);
  const v = await ctx.data.read(type, id);
  if (!v) throw notFound(`${type}/${id} is not known`);
  if (v.deleted) throw gone(`${type}/${id} was deleted`);
  return respondWithVersion(req, v, subsetting);
};

/** vread: one version, 410 when that version is a deletion. https://hl7.org/fhir/STU3/http.html#vread */
export const vread: Interaction = async (req, ctx) => {
  const type = requireType(req);
  const id = requireId(req.id);
  const version = requireVersion(req.version);
  const subsetting = parseReadSubsetting(req.query);
  const v = await ctx.data.vread(type, id, version);
  if (!v) throw notFound(`${type}/${id} has no version ${version}`);
  if (v.deleted) throw gone(`Version ${version} of ${type}/${id} is its deletion`);
  return respondWithVersion(req, v, subsetting);
};

function respondWithVersion(req: FhirRequest, v: StoredVersion, subsetting: Subsetting): FhirResponse {
  const etag = etagOf(v.version);
  const lastModified = v.lastUpdated;
  const { ifNoneMatch, ifModifiedSince } = req.preconditions;
  const notModified =
    (ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch === String(v.version))) ||
    (ifNoneMatch === undefined && ifModifiedSince !== undefined && Math.floor(Date.parse(v.lastUpdated) / 1000) * 1000 <= ifModifiedSince);
  if (notModified) return { status: 304, etag, lastModified };
  if (isSubsetting(subsetting)) {
    return { status: 200, body: { resource: subset(parseJson(v.json!) as Resource, subsetting.summary, subsetting.elements) }, etag, lastModified };
  }
  return { status: 200, body: { json: v.json! }, etag, lastModified };
}
