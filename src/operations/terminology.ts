import { randomUUID } from 'node:crypto';
import type { CodeSystem, ValueSet } from '../fhir/conformance.js';
import { parseJson } from '../fhir/json.js';
import { badRequest, FhirError, gone, issue, notFound } from '../fhir/outcome.js';
import { requireId } from '../interactions/checks.js';
import type { FhirRequest, FhirResponse, Interaction, RequestContext, Resource } from '../interactions/types.js';
import type { Condition } from '../search/plan.js';
import type { CodeSystemIndex } from '../terminology/code-systems.js';
import { serverTerminology } from '../terminology/server.js';
import { checkInCodeSystem, checkInValueSet, type CodeCheck, enumerate, filterConcepts, indexGiven, lookupDetails, NOT_A_MATCH, translate, type TranslateMatch } from '../terminology/services.js';
import type { Expansion } from '../terminology/terminology.js';
import { operationDefinition, type ParamSpec } from './definition.js';
import { booleanParam, integerParam, type OperationParams, operationParams, resourcePart } from './params.js';

/**
 * The terminology operations (https://hl7.org/fhir/STU3/terminology-service.html), at
 * type and instance level, over every code system and value set the server holds: the
 * Care Connect ones and those of the STU3 package (src/terminology), and for
 * `$translate` the ConceptMaps in the store (read through `ctx.data`).
 */

/** The most concepts an `$expand` returns without `count`. */
export const MAX_EXPANSION = 10_000;

/** Standard parameters accepted and not acted on (they change nothing for what this server holds). */
const IGNORED = ['_format', '_pretty', 'date', 'displayLanguage', 'profile', 'activeOnly', 'excludeNested', 'excludeNotForUI', 'excludePostCoordinated', 'limitedExpansion', 'includeDefinition', 'version', 'valueSetVersion', 'context', 'abstract'];

const p = (name: string, type: string, documentation: string, max = '1', use: 'in' | 'out' = 'in'): ParamSpec => ({ name, use, min: 0, max, type, documentation });
const CODE_IN = [
  p('code', 'code', 'The code (with system)'),
  p('system', 'uri', 'Its code system'),
  p('display', 'string', 'A display to check'),
  p('coding', 'Coding', 'The code as a Coding'),
  p('codeableConcept', 'CodeableConcept', 'Codings, any of which may be valid'),
];
const CHECK_OUT = [
  { ...p('result', 'boolean', 'Whether the code (and display) is valid', '1', 'out'), min: 1 },
  p('message', 'string', 'Why not, or what could not be checked', '1', 'out'),
  p('display', 'string', 'The display the code system gives the code', '1', 'out'),
];

export const EXPAND_DEFINITION = operationDefinition({
  id: 'ValueSet-expand',
  code: 'expand',
  title: 'Expand a value set',
  description: 'The codes of a value set the server can enumerate (not those that need SNOMED CT or another code system it does not hold), filtered and paged.',
  resource: ['ValueSet'],
  system: false,
  type: true,
  instance: true,
  base: 'http://hl7.org/fhir/OperationDefinition/ValueSet-expand',
  parameter: [
    p('url', 'uri', 'The value set, by canonical URL (type level)'),
    p('valueSet', 'ValueSet', 'The value set itself (type level, POST)'),
    { ...p('filter', 'string', 'Text: each word starts a word of the display, or the text starts the code'), searchType: 'string' },
    p('offset', 'integer', 'Skip this many concepts'),
    p('count', 'integer', `Return at most this many concepts (without it, at most ${MAX_EXPANSION}, else a 400)`),
    p('includeDesignations', 'boolean', 'Include the designations of each concept'),
    { ...p('return', 'ValueSet', 'The value set with its expansion', '1', 'out'), min: 1 },
  ],
});
export const VS_VALIDATE_DEFINITION = operationDefinition({
  id: 'ValueSet-validate-code',
  code: 'validate-code',
  title: 'Is a code in a value set',
  description: 'Whether a code (a Coding, any Coding of a CodeableConcept) is in a value set, and its display right.',
  resource: ['ValueSet'],
  system: false,
  type: true,
  instance: true,
  base: 'http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code',
  parameter: [p('url', 'uri', 'The value set (type level)'), p('valueSet', 'ValueSet', 'The value set itself (type level, POST)'), ...CODE_IN, ...CHECK_OUT],
});
export const CS_VALIDATE_DEFINITION = operationDefinition({
  id: 'CodeSystem-validate-code',
  code: 'validate-code',
  title: 'Is a code in a code system',
  description: 'Whether a code is in a code system, and its display right.',
  resource: ['CodeSystem'],
  system: false,
  type: true,
  instance: true,
  parameter: [p('url', 'uri', 'The code system (type level; or system)'), p('codeSystem', 'CodeSystem', 'The code system itself (type level, POST)'), ...CODE_IN, ...CHECK_OUT],
});
export const LOOKUP_DEFINITION = operationDefinition({
  id: 'CodeSystem-lookup',
  code: 'lookup',
  title: 'Look up a code',
  description: "What a code system says of a code: its name, display, designations, and the codes above (parent) and below (child) it.",
  resource: ['CodeSystem'],
  system: false,
  type: true,
  instance: true,
  base: 'http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup',
  parameter: [
    p('code', 'code', 'The code'),
    p('system', 'uri', 'Its code system (type level)'),
    p('coding', 'Coding', 'The code as a Coding'),
    p('property', 'code', 'Only these properties (parent, child, abstract)', '*'),
    { ...p('name', 'string', 'The code system', '1', 'out'), min: 1 },
    p('version', 'string', 'Its version', '1', 'out'),
    { ...p('display', 'string', 'The display', '1', 'out'), min: 1 },
    { name: 'designation', use: 'out', min: 0, max: '*', documentation: 'Other names', part: [p('language', 'code', 'Language', '1', 'out'), p('use', 'Coding', 'Use', '1', 'out'), p('value', 'string', 'Name', '1', 'out')] },
    { name: 'property', use: 'out', min: 0, max: '*', documentation: 'parent, child, abstract', part: [p('code', 'code', 'Which', '1', 'out'), p('value', 'code', 'The value', '1', 'out')] },
  ],
});
export const TRANSLATE_DEFINITION = operationDefinition({
  id: 'ConceptMap-translate',
  code: 'translate',
  title: 'Translate a code',
  description: 'What the ConceptMaps the server holds map a code to (or, with reverse, from).',
  resource: ['ConceptMap'],
  system: false,
  type: true,
  instance: true,
  base: 'http://hl7.org/fhir/OperationDefinition/ConceptMap-translate',
  parameter: [
    p('url', 'uri', 'The ConceptMap, by canonical URL (type level)'),
    p('conceptMap', 'ConceptMap', 'The ConceptMap itself (type level, POST)'),
    p('source', 'uri', 'Only maps from this value set'),
    p('target', 'uri', 'Only maps to this value set'),
    p('targetsystem', 'uri', 'Only targets in this code system'),
    p('reverse', 'boolean', 'Map from the targets back to the sources'),
    ...CODE_IN.filter((x) => x.name !== 'display'),
    { ...p('result', 'boolean', 'Whether a match was found', '1', 'out'), min: 1 },
    p('message', 'string', 'Why not', '1', 'out'),
    { name: 'match', use: 'out', min: 0, max: '*', documentation: 'A match', part: [p('equivalence', 'code', 'How close', '1', 'out'), p('concept', 'Coding', 'The code', '1', 'out'), p('source', 'uri', 'The ConceptMap', '1', 'out')] },
  ],
});

function known(params: OperationParams, name: string, allowed: readonly string[]): void {
  for (const n of params.names()) {
    if (!allowed.includes(n) && !IGNORED.includes(n)) throw badRequest(`${name} has no parameter '${n.slice(0, 100)}' here: it takes ${allowed.join(', ')}`, n, 'not-supported');
  }
}

/** A stored resource of the instance-level form. */
async function stored(ctx: RequestContext, type: string, req: FhirRequest): Promise<Record<string, unknown>> {
  const id = requireId(req.id);
  const v = await ctx.data.read(type, id);
  if (!v) throw notFound(`${type}/${id} is not known`);
  if (v.deleted || v.json === null) throw gone(`${type}/${id} was deleted`);
  return parseJson(v.json) as Record<string, unknown>;
}

/** The value set an operation is about, and its expansion (from what the server holds). */
async function valueSetOf(req: FhirRequest, ctx: RequestContext, params: OperationParams, name: string): Promise<{ vs: ValueSet; exp: Expansion }> {
  const t = serverTerminology();
  if (req.id !== undefined) {
    const vs = (await stored(ctx, 'ValueSet', req)) as ValueSet;
    const exp = typeof vs.url === 'string' ? t.expansion(vs.url) : undefined;
    return { vs, exp: exp ?? t.expandResource(vs) };
  }
  const url = params.one('url') ?? params.one('identifier');
  const given = resourcePart(params, 'valueSet');
  if (url !== undefined && given) throw badRequest(`${name}: give the value set by url or as valueSet, not both`, 'url');
  if (given) {
    if (given.resourceType !== 'ValueSet') throw badRequest(`${name}: valueSet must be a ValueSet`, 'valueSet');
    return { vs: given as ValueSet, exp: t.expandResource(given as ValueSet) };
  }
  if (url === undefined) throw badRequest(`${name} at type level needs the value set: url=, or a valueSet in a Parameters body`, 'url', 'required');
  const vs = t.valueSet(url);
  const exp = t.expansion(url);
  if (!vs || !exp) throw notFound(`The value set ${url} is not held by this server`);
  return { vs, exp };
}

/** The code system an operation is about: the instance, `url`/`system`, or a `codeSystem` part. */
async function codeSystemOf(req: FhirRequest, ctx: RequestContext, params: OperationParams, name: string, system: string | undefined): Promise<CodeSystemIndex> {
  const t = serverTerminology();
  if (req.id !== undefined) {
    const cs = (await stored(ctx, 'CodeSystem', req)) as CodeSystem;
    if (system !== undefined && system !== cs.url) throw badRequest(`${name}: the system ${system} is not this code system (${String(cs.url)})`, 'system');
    return (typeof cs.url === 'string' ? t.codeSystem(cs.url) : undefined) ?? indexGiven(cs);
  }
  const given = resourcePart(params, 'codeSystem');
  if (given) {
    if (given.resourceType !== 'CodeSystem') throw badRequest(`${name}: codeSystem must be a CodeSystem`, 'codeSystem');
    return indexGiven(given as CodeSystem);
  }
  const url = params.one('url') ?? system;
  if (url === undefined) throw badRequest(`${name} at type level needs the code system: system= (or url=), or a coding`, 'system', 'required');
  const cs = t.codeSystem(url);
  if (!cs) throw notFound(`The code system ${url} is not held by this server`);
  return cs;
}

interface CodingIn {
  system?: string;
  code: string;
  display?: string;
}

/** The codes to check: code/system/display, a coding, or the codings of a codeableConcept. */
function codingsOf(params: OperationParams, name: string): CodingIn[] {
  const code = params.one('code');
  const coding = params.parts('coding')[0]?.valueCoding as Record<string, unknown> | undefined;
  const concept = params.parts('codeableConcept')[0]?.valueCodeableConcept as { coding?: unknown[] } | undefined;
  const given = [code !== undefined, coding !== undefined, concept !== undefined].filter(Boolean).length;
  if (given === 0) throw badRequest(`${name} needs a code (code and system), a coding or a codeableConcept`, 'code', 'required');
  if (given > 1) throw badRequest(`${name} takes one of code, coding and codeableConcept`, 'code');
  const system = params.one('system');
  const display = params.one('display');
  if (code !== undefined) {
    if (!code) throw badRequest(`${name}: the code is empty`, 'code');
    return [{ code, ...(system ? { system } : {}), ...(display !== undefined ? { display } : {}) }];
  }
  const list = coding ? [coding] : ((concept?.coding ?? []) as Array<Record<string, unknown>>);
  const out: CodingIn[] = [];
  for (const c of list) {
    if (!c || typeof c.code !== 'string' || !c.code) throw badRequest(`${name}: every coding needs a code`, coding ? 'coding' : 'codeableConcept');
    out.push({ code: c.code, ...(typeof c.system === 'string' ? { system: c.system } : {}), ...(typeof c.display === 'string' ? { display: c.display } : {}) });
  }
  if (!out.length) throw badRequest(`${name}: the codeableConcept has no coding`, 'codeableConcept');
  return out;
}

function parameters(parts: Array<Record<string, unknown>>): FhirResponse {
  return { status: 200, body: { resource: { resourceType: 'Parameters', parameter: parts } as Resource } };
}

function checkAnswer(checks: CodeCheck[]): FhirResponse {
  const ok = checks.find((c) => c.result);
  // What this server cannot decide is not a "no": a client (another server's validator asking this one
  // as its terminology server) would take result=false for a wrong code. A 422, as terminology servers
  // answer a filter or a code system they do not support.
  if (!ok && checks.some((c) => c.undecided)) {
    throw new FhirError(422, checks.filter((c) => c.message).map((c) => issue(c.undecided ? 'not-supported' : 'code-invalid', c.message!, undefined, c.undecided ? 'error' : 'information')));
  }
  const chosen = ok ?? checks[0]!;
  const messages = ok ? [] : checks.map((c) => c.message).filter((m): m is string => !!m);
  return parameters([
    { name: 'result', valueBoolean: !!ok },
    ...(messages.length ? [{ name: 'message', valueString: messages.join('; ') }] : []),
    ...(chosen.display ? [{ name: 'display', valueString: chosen.display }] : []),
  ]);
}

export const expand: Interaction = async (req, ctx) => {
  const name = '$expand';
  const params = operationParams(req, name);
  known(params, name, req.id !== undefined ? ['filter', 'offset', 'count', 'includeDesignations'] : ['url', 'identifier', 'valueSet', 'filter', 'offset', 'count', 'includeDesignations']);
  const { vs, exp } = await valueSetOf(req, ctx, params, name);
  const listed = enumerate(serverTerminology(), vs, exp);
  if ('cannot' in listed) throw new FhirError(422, issue('too-costly', `${name}: the value set ${vs.url ?? 'given'} cannot be expanded here: ${listed.cannot}`));
  const filter = params.one('filter');
  const offset = integerParam(params, 'offset', name) ?? 0;
  const count = integerParam(params, 'count', name);
  const designations = booleanParam(params, 'includeDesignations', name) ?? false;
  const matching = filter ? filterConcepts(listed.concepts, filter) : listed.concepts;
  if (count === undefined && matching.length - offset > MAX_EXPANSION) {
    throw new FhirError(400, issue('too-costly', `${name}: ${vs.url} has ${matching.length} concepts${filter ? ' matching the filter' : ''}; ask for at most ${MAX_EXPANSION} at a time with count and offset`, 'count'));
  }
  const page = matching.slice(offset, count === undefined ? undefined : offset + count);
  const used = [
    ...(filter !== undefined ? [{ name: 'filter', valueString: filter }] : []),
    ...(offset ? [{ name: 'offset', valueInteger: offset }] : []),
    ...(count !== undefined ? [{ name: 'count', valueInteger: count }] : []),
    ...(designations ? [{ name: 'includeDesignations', valueBoolean: true }] : []),
  ];
  const head: Record<string, unknown> = { resourceType: 'ValueSet' };
  for (const key of ['id', 'url', 'version', 'name', 'title', 'status']) if (vs[key] !== undefined) head[key] = vs[key];
  head.status ??= 'active';
  const result = {
    ...head,
    expansion: {
      identifier: `urn:uuid:${randomUUID()}`,
      timestamp: new Date(ctx.clock()).toISOString(),
      total: matching.length,
      offset,
      ...(used.length ? { parameter: used } : {}),
      ...(page.length
        ? {
            contains: page.map((c) => ({
              system: c.system,
              ...(c.abstract ? { abstract: true } : {}),
              code: c.code,
              ...(c.display ? { display: c.display } : {}),
              ...(designations && c.designation?.length ? { designation: c.designation } : {}),
            })),
          }
        : {}),
    },
  };
  return { status: 200, body: { resource: result as unknown as Resource } };
};

export const valueSetValidateCode: Interaction = async (req, ctx) => {
  const name = '$validate-code';
  const params = operationParams(req, name);
  known(params, name, [...(req.id === undefined ? ['url', 'identifier', 'valueSet'] : []), 'code', 'system', 'display', 'coding', 'codeableConcept']);
  const codings = codingsOf(params, name);
  const { exp } = await valueSetOf(req, ctx, params, name);
  const t = serverTerminology();
  return checkAnswer(codings.map((c) => checkInValueSet(t, exp, c.system, c.code, c.display)));
};

export const codeSystemValidateCode: Interaction = async (req, ctx) => {
  const name = '$validate-code';
  const params = operationParams(req, name);
  known(params, name, [...(req.id === undefined ? ['url', 'codeSystem'] : []), 'code', 'system', 'display', 'coding', 'codeableConcept']);
  const codings = codingsOf(params, name);
  const checks: CodeCheck[] = [];
  for (const c of codings) {
    const cs = await codeSystemOf(req, ctx, params, name, c.system);
    checks.push(checkInCodeSystem(cs, c.code, c.display));
  }
  return checkAnswer(checks);
};

export const lookup: Interaction = async (req, ctx) => {
  const name = '$lookup';
  const params = operationParams(req, name);
  known(params, name, [...(req.id === undefined ? ['system'] : []), 'code', 'coding', 'property']);
  if (params.parts('codeableConcept').length) throw badRequest(`${name} takes a code or a coding`, 'codeableConcept');
  const [coding] = codingsOf(params, name);
  const cs = await codeSystemOf(req, ctx, params, name, coding!.system);
  const details = lookupDetails(cs, coding!.code);
  if (!details) {
    // Of a code system held in part (SNOMED CT's concepts that the Care Connect value sets name, say), a missing code may still be in the whole.
    throw notFound(cs.complete ? `The code ${coding!.code} is not in the code system ${cs.url}` : `The code ${coding!.code} is not among the concepts of ${cs.url} that this server holds: it holds only part of that code system`);
  }
  const wanted = params.all('property').flatMap((v) => v.split(','));
  const want = (prop: string) => !wanted.length || wanted.includes(prop);
  const { concept, parents } = details;
  return parameters([
    { name: 'name', valueString: cs.name },
    { name: 'display', valueString: concept.display ?? concept.code },
    ...(concept.designations ?? []).map((d) => ({
      name: 'designation',
      part: [...(d.language ? [{ name: 'language', valueCode: d.language }] : []), ...(d.use ? [{ name: 'use', valueCoding: d.use }] : []), { name: 'value', valueString: d.value }],
    })),
    ...(want('parent') ? parents.map((code) => ({ name: 'property', part: [{ name: 'code', valueCode: 'parent' }, { name: 'value', valueCode: code }] })) : []),
    ...(want('child') ? concept.children.map((c) => ({ name: 'property', part: [{ name: 'code', valueCode: 'child' }, { name: 'value', valueCode: c.code }] })) : []),
    ...(want('abstract') && concept.abstract ? [{ name: 'property', part: [{ name: 'code', valueCode: 'abstract' }, { name: 'value', valueBoolean: true }] }] : []),
  ]);
};

export const translateCode: Interaction = async (req, ctx) => {
  const name = '$translate';
  const params = operationParams(req, name);
  known(params, name, [...(req.id === undefined ? ['url', 'conceptMap'] : []), 'code', 'system', 'coding', 'codeableConcept', 'source', 'target', 'targetsystem', 'reverse']);
  const codings = codingsOf(params, name);
  const reverse = booleanParam(params, 'reverse', name) ?? false;
  const targetSystem = params.one('targetsystem');
  const source = params.one('source');
  const target = params.one('target');
  const maps = await conceptMaps(req, ctx, params, codings, reverse, name);
  const scoped = maps.filter((m) => (!source || uriOf(m, 'source') === source) && (!target || uriOf(m, 'target') === target));
  const matches: TranslateMatch[] = [];
  for (const map of scoped) for (const c of codings) matches.push(...translate(map, c.system, c.code, { ...(targetSystem ? { targetSystem } : {}), reverse }));
  const found = matches.some((m) => !NOT_A_MATCH.has(m.equivalence));
  return parameters([
    { name: 'result', valueBoolean: found },
    ...(found ? [] : [{ name: 'message', valueString: scoped.length ? `No ConceptMap held here maps ${codings.map(label).join(' or ')}${targetSystem ? ` to ${targetSystem}` : ''}` : `No ConceptMap held here applies${source || target ? ' between those value sets' : ''}` }]),
    ...matches.map((m) => ({
      name: 'match',
      part: [{ name: 'equivalence', valueCode: m.equivalence }, ...(m.concept ? [{ name: 'concept', valueCoding: m.concept }] : []), ...(m.source ? [{ name: 'source', valueUri: m.source }] : [])],
    })),
  ]);
};

const label = (c: CodingIn) => (c.system ? `${c.system}|${c.code}` : c.code);

function uriOf(map: Record<string, unknown>, side: 'source' | 'target'): string | undefined {
  const uri = map[`${side}Uri`];
  if (typeof uri === 'string') return uri;
  const ref = (map[`${side}Reference`] as { reference?: unknown } | undefined)?.reference;
  return typeof ref === 'string' ? ref : undefined;
}

/** The ConceptMaps to translate with: the instance, the one named by url or given, or those in the store that name the code. */
async function conceptMaps(req: FhirRequest, ctx: RequestContext, params: OperationParams, codings: CodingIn[], reverse: boolean, name: string): Promise<Array<Record<string, unknown>>> {
  if (req.id !== undefined) return [await stored(ctx, 'ConceptMap', req)];
  const given = resourcePart(params, 'conceptMap');
  if (given) {
    if (given.resourceType !== 'ConceptMap') throw badRequest(`${name}: conceptMap must be a ConceptMap`, 'conceptMap');
    return [given];
  }
  const url = params.one('url');
  const where: Condition[] = url !== undefined
    ? [{ kind: 'uri', param: 'url', values: [url], mode: 'eq' }]
    : [{ kind: 'token', param: reverse ? 'target-code' : 'source-code', values: codings.map((c) => ({ code: c.code })) }];
  const page = await ctx.data.search({ types: ['ConceptMap'], where, sort: [], count: 100, offset: 0, total: false });
  if (url !== undefined && !page.rows.length) throw notFound(`The ConceptMap ${url} is not held by this server`);
  return page.rows.filter((v) => v.json).map((v) => parseJson(v.json!) as Record<string, unknown>);
}
