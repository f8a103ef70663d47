import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeXml } from '../../src/fhir/xml.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/**
 * Property-based fuzzing of the HTTP API (issue 15, "Fuzzing in CI"), on both stores, in process
 * (app.inject). Every property says the same thing of every answer: never a 5xx, never a hang,
 * and every 4xx is an OperationOutcome (in XML when XML was asked for).
 *
 * FUZZ_SEED replays a run (the seed is logged at the start, and fast-check prints it with the
 * shrunk counterexample on failure); without it each run draws a new seed. FUZZ_RUNS sets the
 * cases per property (default 100).
 */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
/** A request that has not answered in this long is a hang. */
const HANG_MS = Number(process.env.FUZZ_HANG_MS ?? 15_000);
const BASE = '/STU3';

console.log(`fuzz: seed ${SEED}, ${RUNS} runs per property (replay: FUZZ_SEED=${SEED} npx vitest run test/http/fuzz.test.ts)`);

const params = (): fc.Parameters<unknown> => ({ seed: SEED, numRuns: RUNS, endOnFailure: false });

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

type Wanted = 'json' | 'xml' | 'any';

/** One request through app.inject, failing as a hang if it takes longer than HANG_MS. */
async function send(s: TestServer, method: string, url: string, headers: Record<string, string>, payload?: string): Promise<Answer> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${method} ${url} did not answer in ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    const res = await Promise.race([s.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) }), hang]);
    return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), text: res.body };
  } finally {
    clearTimeout(timer);
  }
}

/** The property every answer must have. */
function check(res: Answer, wanted: Wanted, what: string): void {
  const where = `${what} -> ${res.status} ${res.contentType} ${res.text.slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  if (res.status < 400) return;
  const isXml = /xml/i.test(res.contentType);
  if (wanted !== 'any') expect(isXml ? 'xml' : 'json', where).toBe(wanted);
  if (isXml) {
    expect(res.text, where).toMatch(/^(<\?xml[^>]*\?>\s*)?<OperationOutcome xmlns="http:\/\/hl7\.org\/fhir"/);
  } else {
    expect(res.contentType, where).toMatch(/json/i);
    let body: { resourceType?: unknown; issue?: unknown } | undefined;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = undefined;
    }
    expect(body?.resourceType, where).toBe('OperationOutcome');
    expect(Array.isArray(body?.issue) && body.issue.length > 0, where).toBe(true);
  }
}

// ---------- bodies ----------

const PATIENT = {
  resourceType: 'Patient',
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9449306613' }],
  active: true,
  name: [{ use: 'official', family: 'Fuzz', given: ['Ada', 'B'] }],
  telecom: [{ system: 'phone', value: '0113 496 0000', use: 'home' }],
  gender: 'female',
  birthDate: '1970-01-02',
  address: [{ line: ['1 Road'], city: 'Leeds', postalCode: 'LS1 1AA' }],
  extension: [{ url: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1', valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1', code: 'A' }] } }],
};

const OBSERVATION = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: '2020-03-04T05:06:07Z',
  valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  component: [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120.5, unit: 'mmHg' } }],
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside a JSON value (the root excluded). */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

function nest(depth: number, leaf: Json, asArray: boolean): Json {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { extension: [{ url: 'x', valueString: 'y' }], n: v };
  return v;
}

/** Values that are wrong somewhere in a FHIR resource. */
const weird: fc.Arbitrary<Json> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('\ud800', '\udfff', '\u0000', '\uffff', '\ufeff', 'é', '\u202e', '"', '<', '&', '\\') }),
  fc.integer().map((n) => String(n)),
  fc.double().map((n) => (Number.isFinite(n) ? n : String(n))),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom<Json>([], {}, '', ' ', '1e400', '-0', '0x10', '2020-02-30', 'true', 'Patient/', '#', 'urn:uuid:x', '%'),
  fc.integer({ min: 10_000, max: 300_000 }).map((n) => 'x'.repeat(n)),
  fc.tuple(fc.integer({ min: 1, max: 120 }), fc.boolean()).map(([d, a]) => nest(d, 'deep', a)),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

type Mutation =
  | { kind: 'set'; at: number; value: Json }
  | { kind: 'delete'; at: number }
  | { kind: 'unknown'; at: number; key: string; value: Json }
  | { kind: 'wrap'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: weird }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('unknown' as const), at: fc.nat(), key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '_birthDate', 'resourceType', 'contained', 'id', 'meta', 'fhir_comments')), value: weird }),
  fc.record({ kind: fc.constant('wrap' as const), at: fc.nat() }),
);

function mutate(base: Json, ms: Mutation[]): Json {
  const doc = structuredClone(base);
  for (const m of ms) {
    const all = paths(doc);
    if (all.length === 0) break;
    const path = all[m.at % all.length]!;
    let parent: any = doc;
    for (const p of path.slice(0, -1)) parent = parent[p];
    const key = path[path.length - 1]!;
    if (m.kind === 'set') parent[key] = m.value;
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (m.kind === 'wrap') parent[key] = Array.isArray(parent[key]) ? parent[key][0] ?? null : [parent[key]];
    else {
      const target = parent[key];
      if (target && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else if (!Array.isArray(parent)) Object.defineProperty(parent, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return doc;
}

/** A resource (Patient or Observation) with a few mutations. */
const resource: fc.Arbitrary<Json> = fc
  .tuple(fc.constantFrom<Json>(PATIENT as Json, OBSERVATION as Json), fc.array(mutation, { minLength: 0, maxLength: 4 }))
  .map(([base, ms]) => mutate(base, ms));

/** Changes to a body's text: truncation, a random insertion, a duplicated key. */
const textEdit = fc.oneof(
  fc.constant((t: string) => t),
  fc.constant((t: string) => t),
  fc.nat().map((n) => (t: string) => t.slice(0, n % (t.length + 1))),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 8 })).map(([n, s]) => (t: string) => t.slice(0, n % (t.length + 1)) + s + t.slice(n % (t.length + 1))),
  fc.constant((t: string) => t.replace(/"gender":"female"/, '"gender":"female","gender":"male"').replace(/"status":"final"/, '"status":"final","status":"final"')),
);

function toXml(v: Json): string {
  try {
    return serializeXml(v as Record<string, unknown>);
  } catch {
    return serializeXml(PATIENT);
  }
}

const xmlEdit = fc.oneof(
  textEdit,
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => (t: string) => t.replace(/value="[^"]*"/, `value="${s}"`)),
  fc.constantFrom(
    (t: string) => `<?xml version="1.0" encoding="ISO-8859-1"?>${t}`,
    (t: string) => `<!DOCTYPE p [<!ENTITY e "x">]>${t.replace(/value="[^"]*"/, 'value="&e;"')}`,
    (t: string) => t.replace('<', '<x:').replace('xmlns=', 'xmlns:x='),
    (t: string) => t.replace(/<\/\w+>$/, ''),
    (t: string) => t.replace('xmlns="http://hl7.org/fhir"', ''),
    (t: string) => t.replace(/(<\w+)/, '$1 extra="1"'),
    (t: string) => t.replace(/>/, '><unknown value="1"/>'),
    (t: string) => t.replace(/>/, `>${'<a>'.repeat(500)}${'</a>'.repeat(500)}`),
    (t: string) => t.replace(/>/, '><![CDATA[x]]><!-- c -->'),
  ),
);

/** A random XML document, loosely shaped like FHIR. */
const randomXml: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 10 }).map((s) => s.replace(/[<&]/g, '')),
    fc
      .tuple(fc.constantFrom('Patient', 'name', 'family', 'value', 'id', 'extension', 'x:y', 'contained', 'Bundle', 'entry', 'resource'), fc.string({ unit: 'binary', maxLength: 6 }), fc.array(tie('node'), { maxLength: 3 }))
      .map(([tag, attr, kids]) => `<${tag} value="${attr.replace(/["<&]/g, '')}">${kids.join('')}</${tag}>`),
  ),
})).node.map((inner) => `<Patient xmlns="http://hl7.org/fhir">${inner}</Patient>`);

interface BodyCase {
  method: 'POST' | 'PUT';
  target: 'create' | 'update' | 'transaction' | 'batch';
  format: 'json' | 'xml';
  accept: 'json' | 'xml';
  text: string;
}

function bundle(type: 'transaction' | 'batch', entry: Json, asPut: boolean): Json {
  const rt = entry && typeof entry === 'object' && !Array.isArray(entry) && typeof entry.resourceType === 'string' ? entry.resourceType : 'Patient';
  return {
    resourceType: 'Bundle',
    type,
    entry: [
      { fullUrl: 'urn:uuid:4a9a7d0e-1c2b-4c8a-9e6f-1d2c3b4a5e6f', resource: entry, request: asPut ? { method: 'PUT', url: `${rt}/fz1` } : { method: 'POST', url: rt, ifNoneExist: 'identifier=https://fhir.nhs.uk/Id/nhs-number|9449306613' } },
      { request: { method: 'GET', url: 'Patient?_count=1' } },
    ],
  };
}

const bodyCase: fc.Arbitrary<BodyCase> = fc
  .record({
    target: fc.constantFrom('create' as const, 'update' as const, 'transaction' as const, 'batch' as const),
    format: fc.constantFrom('json' as const, 'xml' as const),
    accept: fc.constantFrom('json' as const, 'xml' as const),
    res: resource,
    bundleMutations: fc.array(mutation, { maxLength: 2 }),
    asPut: fc.boolean(),
    jsonEdit: textEdit,
    xmlEdit,
    rawXml: fc.option(randomXml, { freq: 4 }),
  })
  .map(({ target, format, accept, res, bundleMutations, asPut, jsonEdit, xmlEdit, rawXml }) => {
    let doc: Json = res;
    if (target === 'update' && doc && typeof doc === 'object' && !Array.isArray(doc) && 'resourceType' in doc) doc = { ...doc, id: 'fz1' };
    if (target === 'transaction' || target === 'batch') doc = mutate(bundle(target, doc, asPut), bundleMutations);
    const text = format === 'json' ? jsonEdit(JSON.stringify(doc) ?? 'null') : rawXml ?? xmlEdit(toXml(doc));
    return { method: target === 'update' ? ('PUT' as const) : ('POST' as const), target, format, accept, text };
  });

function bodyUrl(c: BodyCase): string {
  if (c.target === 'transaction' || c.target === 'batch') return BASE;
  const type = /Observation/.test(c.text.slice(0, 200)) ? 'Observation' : 'Patient';
  return c.target === 'update' ? `${BASE}/${type}/fz1` : `${BASE}/${type}`;
}

// ---------- searches ----------

interface SearchParam {
  name: string;
  type: string;
}

const MODIFIERS = ['missing', 'exact', 'contains', 'text', 'not', 'above', 'below', 'in', 'not-in', 'of-type', 'identifier', 'iterate', 'Patient', 'Organization', 'x', ''];
const PREFIXES = ['', '', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'zz'];

/** A value for a parameter of the given type: sometimes well formed, sometimes not. */
function valueFor(type: string): fc.Arbitrary<string> {
  const junk = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom('', ' ', '|', '||', '|x', 'x|', '$', '\\,', '\\$', '\\|', ',', ',,', '*', 'null', '-0', '1e999', 'NaN', '%00', '\u0000', "'; DROP TABLE x;--", '\ud800'),
  );
  const typed: Record<string, fc.Arbitrary<string>> = {
    date: fc.oneof(fc.date({ min: new Date(-62135596800000), max: new Date(253402214400000), noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('2020', '2020-02', '2020-02-30', '2020-13-01', '2020-01-01T25:00', '2020-01-01T10:00:00+14:00', '99999', '-2020')),
    number: fc.oneof(fc.double().map(String), fc.integer().map(String), fc.constantFrom('1.', '.5', '1e3', '0x1F', '١٢')),
    quantity: fc.tuple(fc.double().map(String), fc.constantFrom('', '|http://unitsofmeasure.org|mg', '||kg', '|x', '|||')).map(([n, u]) => n + u),
    token: fc.tuple(fc.option(fc.constantFrom('http://loinc.org', 'https://fhir.nhs.uk/Id/nhs-number', '', 'urn:oid:1.2')), fc.string({ maxLength: 10 })).map(([sys, code]) => (sys === null ? code : `${sys}|${code}`)),
    reference: fc.constantFrom('Patient/p1', 'p1', 'Patient/', '/Patient/p1', 'http://elsewhere/Patient/1', 'Patient/p1/_history/1', 'Spaceship/1', 'urn:uuid:1'),
    string: fc.string({ unit: 'grapheme', maxLength: 15 }),
    uri: fc.constantFrom('http://a', 'urn:x', 'http://a/b|1', 'not a uri'),
  };
  return fc.oneof({ weight: 3, arbitrary: typed[type] ?? junk }, { weight: 1, arbitrary: junk });
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) is sent as the bytes UTF-8 forbids for one. */
const enc = (s: string): string =>
  s
    .split(/([\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/)
    .map((part, i) => (i % 2 ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');

/** Percent-encoded, with now and then a broken escape. */
const encode = (s: string, broken: boolean): string => (broken ? `${enc(s)}%${s.length % 2 ? 'zz' : 'E0%A4%A'}` : enc(s).replace(/%2C/g, ','));

function searchArb(types: Record<string, SearchParam[]>): fc.Arbitrary<{ url: string; accept: 'json' | 'xml' }> {
  const typeNames = Object.keys(types);
  const one = fc.constantFrom(...typeNames).chain((type) => {
    const ps = types[type]!;
    const clause = fc
      .tuple(fc.constantFrom(...ps), fc.constantFrom(...MODIFIERS), fc.constantFrom(...PREFIXES), fc.array(fc.constant(0), { minLength: 1, maxLength: 3 }), fc.boolean(), fc.nat(20))
      .chain(([p, mod, prefix, ors, broken, r]) =>
        fc.tuple(...ors.map(() => valueFor(p.type))).map((vals) => {
          const name = mod && r < 8 ? `${p.name}:${mod}` : p.name;
          const value = vals.map((v) => (p.type === 'date' || p.type === 'number' || p.type === 'quantity' ? prefix + v : v)).map((v) => encode(v, broken && r === 0));
          return `${enc(name).replace(/%3A/g, ':')}=${value.join(',')}`;
        }),
      );
    const result = fc.constantFrom(
      '_count=0', '_count=-1', '_count=1', '_count=abc', '_count=100000', '_sort=-_lastUpdated', `_sort=${ps[0]!.name}`, `_sort=-${ps[ps.length - 1]!.name}`, '_sort=nonsense',
      '_include=*', `_include=${type}:subject`, '_revinclude=*', '_include:iterate=*', '_summary=count', '_summary=true', '_summary=maybe', '_elements=id,meta', '_elements=',
      '_total=accurate', '_format=xml', '_format=text/plain', '_contained=true', '_id=', '_lastUpdated=gt2020', '_has:Observation:subject:code=8867-4', '_has:x', 'subject.name=Fuzz', 'subject:Patient.birthdate=lt2000',
    );
    return fc.tuple(fc.array(clause, { minLength: 1, maxLength: 4 }), fc.array(result, { maxLength: 2 }), fc.constantFrom('json' as const, 'xml' as const)).map(([cs, rs, accept]) => ({ url: `${BASE}/${type}?${[...cs, ...rs].join('&')}`, accept }));
  });
  return one;
}

// ---------- headers ----------

/** Header values: printable ASCII (what a header may carry), sometimes near-valid. */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });

const headerValues = {
  'if-match': fc.oneof(headerText, fc.nat().map((n) => `W/"${n}"`), fc.constantFrom('*', 'W/"', '"1', 'W/"-1"', 'W/"1e3"', 'W/"99999999999999999999"', '', 'W/"1", W/"2"')),
  'if-none-exist': fc.oneof(headerText, fc.constantFrom('', '_id=', '_count=5', 'identifier=https://fhir.nhs.uk/Id/nhs-number|9449306613', 'family=Fuzz&gender=female', 'name:exact=', '?', '&&', 'bogus=1', '_has:x=1', 'birthdate=zz2020', '%')),
  prefer: fc.oneof(headerText, fc.constantFrom('return=minimal', 'return=representation', 'return=OperationOutcome', 'respond-async', 'handling=strict', 'handling=lenient', 'return=', '=;,', 'return=minimal, handling=strict')),
  accept: fc.oneof(headerText, fc.constantFrom('application/fhir+xml', 'application/fhir+json', 'application/xml;q=0.9, application/json;q=1', 'text/html', '*/*', 'application/*', 'image/png', ';q=abc', 'application/fhir+xml;q=-1')),
  'content-type': fc.oneof(headerText, fc.constantFrom('application/fhir+json', 'application/fhir+xml', 'application/fhir+json; charset=iso-8859-1', 'application/json; charset=utf-8', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', '', 'application/fhir+json; fhirVersion=1.0')),
};

const headerCase = fc.record({
  target: fc.constantFrom('create', 'update', 'read', 'search', 'delete', 'transaction'),
  format: fc.constantFrom('json' as const, 'xml' as const),
  headers: fc.record(headerValues, { requiredKeys: [] }),
});

/** What the answer's format must be: XML or JSON when Accept asks for exactly that, else either. */
function wantedFrom(accept: string | undefined, url: string): Wanted {
  if (/[?&]_format=/.test(url)) return 'any';
  if (accept === undefined || accept === 'application/fhir+json') return 'json';
  if (accept === 'application/fhir+xml') return 'xml';
  return 'any';
}

const ACCEPT = { json: 'application/fhir+json', xml: 'application/fhir+xml' };

for (const kind of await storeKinds()) {
  describe(`fuzzing the HTTP API (${kind}; seed ${SEED}, ${RUNS} runs)`, () => {
    let s: TestServer;
    let searchTypes: Record<string, SearchParam[]>;
    let nextLinks: string[];

    beforeAll(async () => {
      s = await startTestServer(kind);
      // A little data: patients to page through and read, observations that point at them.
      for (let i = 0; i < 12; i++) {
        const p = await s.request('PUT', `${BASE}/Patient/p${i}`, { body: { ...PATIENT, id: `p${i}`, identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: `94493066${10 + i}` }], name: [{ family: `Fuzz${i % 3}`, given: ['Ada'] }] } });
        expect(p.status).toBeLessThan(300);
        const o = await s.request('PUT', `${BASE}/Observation/o${i}`, { body: { ...OBSERVATION, id: `o${i}`, subject: { reference: `Patient/p${i}` } } });
        expect(o.status).toBeLessThan(300);
      }
      const cap = await s.request('GET', `${BASE}/metadata`);
      searchTypes = {};
      for (const r of cap.json.rest[0].resource as { type: string; searchParam?: SearchParam[] }[]) {
        if (['Patient', 'Observation', 'Encounter', 'Organization', 'MedicationRequest'].includes(r.type) && r.searchParam?.length) searchTypes[r.type] = r.searchParam.map(({ name, type }) => ({ name, type }));
      }
      expect(Object.keys(searchTypes).length).toBeGreaterThanOrEqual(3);
      const types = new Set(Object.values(searchTypes).flatMap((ps) => ps.map((p) => p.type)));
      for (const t of ['string', 'token', 'date', 'reference', 'quantity', 'number']) expect(types, `a ${t} parameter`).toContain(t);
      nextLinks = [];
      for (const q of ['Patient?_count=2', 'Patient?_count=3&_sort=family&family=Fuzz', 'Observation?_count=2&_include=Observation:subject', '?_type=Patient,Observation&_count=4']) {
        const page = await s.request('GET', `${BASE}/${q}`);
        const next = (page.json.link as { relation: string; url: string }[]).find((l) => l.relation === 'next');
        expect(next, q).toBeDefined();
        nextLinks.push(next!.url.replace(/^https?:\/\/[^/]+/, ''));
      }
    });
    afterAll(async () => s?.cleanup());

    it('JSON and XML bodies for create, update, transaction and batch', async () => {
      await fc.assert(
        fc.asyncProperty(bodyCase, async (c) => {
          const res = await send(s, c.method, bodyUrl(c), { 'content-type': ACCEPT[c.format], accept: ACCEPT[c.accept] }, c.text);
          check(res, c.accept, `${c.method} ${bodyUrl(c)} (${c.format}) ${c.text.slice(0, 200)}`);
        }),
        params(),
      );
    });

    it('searches with every parameter type, random values, modifiers and prefixes', async () => {
      await fc.assert(
        fc.asyncProperty(searchArb(searchTypes), async ({ url, accept }) => {
          const res = await send(s, 'GET', url, { accept: ACCEPT[accept] });
          check(res, wantedFrom(ACCEPT[accept], url), `GET ${url}`);
        }),
        params(),
      );
    });

    it('If-Match, If-None-Exist, Prefer, Accept and Content-Type with random values', async () => {
      await fc.assert(
        fc.asyncProperty(headerCase, async ({ target, format, headers }) => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = v;
          h['content-type'] ??= ACCEPT[format];
          const body = format === 'json' ? JSON.stringify(PATIENT) : serializeXml(PATIENT);
          const call: Record<string, [string, string, string | undefined]> = {
            create: ['POST', `${BASE}/Patient`, body],
            update: ['PUT', `${BASE}/Patient/p1`, format === 'json' ? JSON.stringify({ ...PATIENT, id: 'p1' }) : serializeXml({ ...PATIENT, id: 'p1' })],
            read: ['GET', `${BASE}/Patient/p2`, undefined],
            search: ['GET', `${BASE}/Patient?family=Fuzz1`, undefined],
            delete: ['DELETE', `${BASE}/Observation/o3`, undefined],
            transaction: ['POST', BASE, format === 'json' ? JSON.stringify(bundle('transaction', PATIENT as Json, false)) : toXml(bundle('transaction', PATIENT as Json, false))],
          };
          const [method, url, payload] = call[target]!;
          const res = await send(s, method, url, h, payload);
          check(res, wantedFrom(h.accept, url), `${method} ${url} ${JSON.stringify(h)}`);
        }),
        params(),
      );
    });

    it('paging links, truncated and altered', async () => {
      const alteration = fc.oneof(
        fc.nat().map((n) => (u: string) => u.slice(0, n % (u.length + 1))),
        fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })).map(([n, c]) => (u: string) => {
          const i = n % u.length;
          return u.slice(0, i) + enc(c) + u.slice(i + 1);
        }),
        fc.tuple(fc.nat(), fc.integer({ min: 0x21, max: 0x7e })).map(([n, c]) => (u: string) => {
          const i = n % u.length;
          return u.slice(0, i) + encodeURIComponent(String.fromCharCode(c)) + u.slice(i + 1);
        }),
        fc.constantFrom(
          (u: string) => u.replace(/_cursor=[^&]*/, '_cursor='),
          (u: string) => u.replace(/_cursor=([^&]*)/, (_, c: string) => `_cursor=${c.split('').reverse().join('')}`),
          (u: string) => u.replace(/_cursor=([^&]*)/, (_, c: string) => `_cursor=${c}&_cursor=${c}`),
          (u: string) => `${u}&_count=1000`,
          (u: string) => `${u}&family=other`,
          (u: string) => u.replace(/&[^&]*$/, ''),
          (u: string) => u.replace(/_count=\d+/, '_count=-5'),
          (u: string) => u.replace('/Patient', '/Observation'),
          (u: string) => u.replace(/_cursor=([^&.]*)\.?/, '_cursor=$1%2E'),
        ),
      );
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.array(alteration, { minLength: 1, maxLength: 3 }), fc.constantFrom('json' as const, 'xml' as const), async (which, alts, accept) => {
          let url = nextLinks[which % nextLinks.length]!;
          for (const a of alts) url = a(url);
          if (!url.startsWith('/')) url = `/${url}`;
          const res = await send(s, 'GET', url, { accept: ACCEPT[accept] });
          check(res, wantedFrom(ACCEPT[accept], url), `GET ${url}`);
        }),
        params(),
      );
    });

    it('the fuzzing found the server still answering normally', async () => {
      const res = await s.request('GET', `${BASE}/Patient/p0`);
      expect(res.status).toBe(200);
      expect(res.json.id).toBe('p0');
    });
  });
}
