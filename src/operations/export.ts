import { parseJson } from '../fhir/json.js';
import { badRequest, FhirError, forbidden, gone, issue, notFound, operationOutcome } from '../fhir/outcome.js';
import { httpDate } from '../interactions/bundle.js';
import { requireId } from '../interactions/checks.js';
import { callerKey, queryString } from '../interactions/cursor.js';
import type { BulkExports, ExportCaller, ExportSpec, FhirRequest, FhirResponse, Interaction, RequestContext, Resource } from '../interactions/types.js';
import { READ_ONLY_TYPES } from '../profiles/read-only.js';
import type { Access } from '../search/access.js';
import { parseDateValue } from '../search/parse/values.js';
import { operationDefinition, type ParamSpec } from './definition.js';
import { compartmentTypes } from './everything.js';
import { operationParams } from './params.js';

/**
 * Bulk Data export (FHIR Bulk Data Access 1.0, on STU3:
 * https://hl7.org/fhir/uv/bulkdata/STU1/export/index.html): `$export` on the system,
 * `Patient/$export` and `Group/{id}/$export`, in the async pattern. The kick-off
 * (with `Prefer: respond-async`) answers 202 with the status URL in Content-Location;
 * polling it answers 202 (X-Progress, Retry-After) while the job runs, then 200 with the
 * manifest; DELETE cancels. The jobs and their files are src/data/export-jobs.ts's.
 */

export const FORMATS: readonly string[] = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];
/** Seconds a client is asked to wait between polls. */
export const RETRY_AFTER = '2';
const STATUS = '$export-poll-status';
const FILE = '$export-file';

const PARAMS: ParamSpec[] = [
  { name: '_outputFormat', use: 'in', min: 0, max: '1', type: 'string', documentation: `${FORMATS.join(', ')} (all NDJSON)` },
  { name: '_since', use: 'in', min: 0, max: '1', type: 'instant', documentation: 'Only resources changed at or after this instant' },
  { name: '_type', use: 'in', min: 0, max: '*', type: 'string', documentation: 'Only these resource types (comma-separated)' },
];
const describe = (what: string) =>
  `Exports ${what} as NDJSON files, one per type, in the async pattern: send Prefer: respond-async; poll the Content-Location URL (202 while running, 200 with the manifest when done; DELETE cancels). Needs system/ or user/ scopes on the secure base.`;

export const SYSTEM_DEFINITION = operationDefinition({ id: 'export', code: 'export', title: 'Bulk export of everything', description: describe('every resource the caller may see'), system: true, type: false, instance: false, parameter: PARAMS });
export const PATIENT_DEFINITION = operationDefinition({ id: 'Patient-export', code: 'export', title: 'Bulk export of all patients', description: describe("every patient's compartment"), resource: ['Patient'], system: false, type: true, instance: false, parameter: PARAMS });
export const GROUP_DEFINITION = operationDefinition({ id: 'Group-export', code: 'export', title: 'Bulk export of a group', description: describe("the compartments of the group's member patients"), resource: ['Group'], system: false, type: false, instance: true, parameter: PARAMS });

function service(ctx: RequestContext): BulkExports {
  if (!ctx.bulk) throw new FhirError(501, issue('not-supported', 'Bulk export runs only in the server (ccri serve)'));
  return ctx.bulk;
}

/** Whether the caller's access is confined to patients' compartments (patient/ scopes). */
function confined(access: Access): boolean {
  return access.default === 'compartment' || Object.values(access.types ?? {}).includes('compartment');
}

export const kickOff: Interaction = async (req, ctx) => {
  const bulk = service(ctx);
  const params = operationParams(req, '$export');
  for (const name of params.names()) {
    if (name === '_typeFilter') throw badRequest('$export: _typeFilter is not supported', name, 'not-supported');
    if (!['_outputFormat', '_since', '_type', '_format', '_pretty'].includes(name)) throw badRequest(`$export has no parameter '${name.slice(0, 100)}': it takes _outputFormat, _since and _type`, name, 'not-supported');
  }
  if (!req.prefer.respondAsync) throw badRequest('$export runs asynchronously: send the header Prefer: respond-async', 'Prefer', 'required');
  if (confined(ctx.caller.access)) throw forbidden('$export needs system/ or user/ scopes: a patient/ token cannot start a bulk export');
  const format = params.one('_outputFormat');
  if (format !== undefined && !FORMATS.includes(format)) throw badRequest(`$export: _outputFormat must be one of ${FORMATS.join(', ')}, not '${format.slice(0, 100)}'`, '_outputFormat', 'not-supported');
  const sinceText = params.one('_since');
  const since = sinceText !== undefined ? parseDateValue('_since', sinceText, ctx.clock()).low : undefined;

  const level: ExportSpec['level'] = req.type === undefined ? 'system' : req.type === 'Patient' ? 'patient' : 'group';
  const allowed = level === 'system' ? ctx.registry.types().filter((t) => !READ_ONLY_TYPES.has(t)) : compartmentTypes(ctx.registry);
  const asked = params.all('_type').flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  for (const t of asked) {
    if (!ctx.registry.types().includes(t)) throw badRequest(`$export: unknown resource type '${t.slice(0, 100)}' in _type`, '_type');
    if (!allowed.includes(t)) throw badRequest(`$export: ${t} is not exported at this level${level === 'system' ? ' (the conformance resources are the server’s own)' : ' (it is not in the Patient compartment)'}`, '_type');
  }
  const spec: ExportSpec = { level, types: asked.length ? [...new Set(asked)] : allowed, ...(since !== undefined ? { since } : {}) };
  if (level === 'group') {
    const id = requireId(req.id);
    const v = await ctx.data.read('Group', id);
    if (!v) throw notFound(`Group/${id} is not known`);
    if (v.deleted || v.json === null) throw gone(`Group/${id} was deleted`);
    spec.group = id;
    spec.members = members(parseJson(v.json) as Resource, ctx.config.baseUrl);
  }
  const path = level === 'system' ? '$export' : level === 'patient' ? 'Patient/$export' : `Group/${spec.group}/$export`;
  const query = params.canonical();
  const caller: ExportCaller = {
    base: ctx.config.baseUrl,
    owner: callerKey(ctx),
    access: ctx.caller.access,
    request: `${ctx.config.baseUrl}/${path}${query.length ? `?${queryString(query)}` : ''}`,
    requiresAccessToken: ctx.config.security !== undefined,
  };
  const job = await bulk.start(spec, caller);
  return {
    status: 202,
    contentLocation: statusUrl(ctx, job),
    body: { resource: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `The export has started: poll ${statusUrl(ctx, job)}` }]) as unknown as Resource },
  };
};

function statusUrl(ctx: RequestContext, job: string): string {
  return `${ctx.config.baseUrl}/${STATUS}?_jobId=${job}`;
}

/** The Patient ids a Group lists as (active) members. */
function members(group: Resource, baseUrl: string): string[] {
  const out: string[] = [];
  const prefix = `${baseUrl}/Patient/`;
  for (const m of (Array.isArray(group.member) ? group.member : []) as Array<{ entity?: { reference?: unknown }; inactive?: unknown }>) {
    if (m.inactive === true || typeof m.entity?.reference !== 'string') continue;
    let ref = m.entity.reference;
    if (ref.startsWith(prefix)) ref = `Patient/${ref.slice(prefix.length)}`;
    const match = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
    if (match) out.push(match[1]!);
  }
  return [...new Set(out)];
}

function jobId(req: FhirRequest): string {
  const ids = req.query.filter(([k]) => k === '_jobId').map(([, v]) => v);
  if (ids.length !== 1 || !/^[0-9a-f-]{36}$/.test(ids[0]!)) throw badRequest('A bulk export status or file URL needs the _jobId it was given', '_jobId');
  return ids[0]!;
}

const who = (ctx: RequestContext) => ({ base: ctx.config.baseUrl, owner: callerKey(ctx) });

/** GET polls a job, DELETE cancels it. */
export const exportStatus: Interaction = async (req, ctx): Promise<FhirResponse> => {
  const bulk = service(ctx);
  const id = jobId(req);
  if (req.method === 'DELETE') {
    if (!(await bulk.cancel(id, who(ctx)))) throw notFound(`There is no export ${id} of yours to cancel`);
    return { status: 202, body: { resource: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `The export ${id} was cancelled and its files removed` }]) as unknown as Resource } };
  }
  const state = await bulk.status(id, who(ctx));
  if (!state) throw notFound(`There is no export ${id} of yours (it may have expired or been cancelled)`);
  if (state.state === 'running') return { status: 202, headers: { 'X-Progress': state.progress, 'Retry-After': RETRY_AFTER } };
  if (state.state === 'failed') throw new FhirError(500, issue('exception', state.error));
  return { status: 200, headers: { 'content-type': 'application/json', expires: httpDate(new Date(state.expires).toISOString()) }, body: { json: JSON.stringify(state.manifest) } };
};

/** An output file of a finished job, to the caller who asked for it. */
export const exportFile: Interaction = async (req, ctx) => {
  const bulk = service(ctx);
  const id = jobId(req);
  const names = req.query.filter(([k]) => k === '_file').map(([, v]) => v);
  if (names.length !== 1) throw badRequest('A bulk export file URL names one _file', '_file');
  const path = await bulk.file(id, names[0]!, who(ctx));
  if (!path) throw notFound(`The export ${id} has no file ${names[0]!.slice(0, 100)} of yours`);
  return { status: 200, headers: { 'content-type': 'application/fhir+ndjson' }, body: { file: path } };
};

export { FILE as EXPORT_FILE, STATUS as EXPORT_STATUS };
