import { randomUUID } from 'node:crypto';
import { badRequest, FhirError, issue, preconditionFailed } from '../fhir/outcome.js';
import type { StoreTx } from '../store/store.js';
import { type BundleData, type BundleEntry, materialise, RawResource } from './bundle.js';
import { checkStructure } from './checks.js';
import { askTerminologyAhead } from './validate-write.js';
import { conditionalMatches, parseQueryString } from './conditional.js';
import { WriteGather } from './write-gather.js';
import type { FhirRequest, FhirResponse, Incoming, Interaction, Method, RequestContext, Resource } from './types.js';

interface Planned {
  index: number;
  method: Method;
  /** The method and URL as the entry gave them (for messages: a POST stays a POST after it is given its id). */
  asSent: string;
  segments: string[];
  query: Array<[string, string]>;
  fullUrl?: string;
  resource?: Resource;
  request: Record<string, unknown>;
}

const ORDER: Record<Method, number> = { DELETE: 0, POST: 1, PUT: 2, GET: 3 };
const STATUS_TEXT: Record<number, string> = { 200: '200 OK', 201: '201 Created', 204: '204 No Content', 304: '304 Not Modified' };

/**
 * batch and transaction Bundles. Each entry goes through the request pipeline
 * (`ctx.entry`: route, authorise, interaction) as the Bundle's caller, so an entry is
 * answered exactly as the same request alone would be. A transaction is all or nothing:
 * its entries run in one store transaction in the order DELETE, POST, PUT, GET; ids of
 * created resources are chosen first, so `urn:uuid:` fullUrls and the references that
 * point at them are rewritten before anything is written.
 * https://hl7.org/fhir/STU3/http.html#transaction
 */
export const transaction: Interaction = async (req, ctx) => {
  const bundle = req.body;
  if (!bundle || bundle.resourceType !== 'Bundle') throw badRequest('POST to the base expects a Bundle of type batch or transaction');
  // The Bundle itself here; each entry's resource when its entry is processed (a bad one fails
  // the transaction, or only its own entry in a batch), so no resource is checked twice.
  const { entry: given, ...head } = bundle;
  const shells = Array.isArray(given) ? given.map(entryWithoutResource).filter((e) => e !== undefined) : given;
  checkStructure((Array.isArray(shells) && !shells.length ? head : { ...head, entry: shells }) as Resource);
  const kind = bundle.type;
  if (kind !== 'transaction' && kind !== 'batch') throw badRequest(`Bundle.type must be batch or transaction, not '${String(kind)}'`, 'Bundle.type');
  const given_ = (bundle.entry as Array<Record<string, unknown>> | undefined) ?? [];
  const maxEntries = ctx.config.bundleMaxEntries ?? DEFAULT_MAX_ENTRIES;
  if (given_.length > maxEntries) throw new FhirError(400, issue('too-costly', `The Bundle has ${given_.length} entries; this server takes at most ${maxEntries} in one batch or transaction (CCRI_BUNDLE_MAX_ENTRIES)`, 'Bundle.entry'));
  const budget = new ResponseBudget(ctx.config.bundleMaxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  // The remote terminology server's answers for the entries, asked before any store transaction begins.
  await askTerminologyAhead(given_.map((e) => (e && typeof e === 'object' ? e.resource : undefined)), ctx);
  let responses: BundleEntry[];
  if (kind === 'batch') {
    // In a batch an entry that cannot even be read (a bad method, a URL that is not valid percent-encoding) fails alone.
    responses = await runBatch(given_.map((e, i) => planOrError(e, i, ctx.config.baseUrl)), req, ctx, budget);
  } else {
    const entries = given_.map((e, i) => plan(e, i, ctx.config.baseUrl));
    checkFullUrls(entries);
    responses = await runTransaction(entries, req, ctx, budget);
  }
  const out: BundleData = { resourceType: 'Bundle', id: randomUUID(), type: `${kind}-response`, entry: responses };
  return { status: 200, body: { bundle: out } };
};

/** An entry without its resource (undefined when nothing else is left: plan() then says what is missing). */
function entryWithoutResource(entry: unknown): unknown {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return entry;
  const { resource: _resource, ...rest } = entry as Record<string, unknown>;
  return Object.keys(rest).length ? rest : undefined;
}

function planOrError(entry: Record<string, unknown>, index: number, baseUrl: string): Planned | FhirError {
  try {
    return plan(entry, index, baseUrl);
  } catch (err) {
    if (err instanceof FhirError) return err;
    throw err;
  }
}

function plan(entry: Record<string, unknown>, index: number, baseUrl: string): Planned {
  const where = `Bundle.entry[${index}]`;
  const request = entry.request as Record<string, unknown> | undefined;
  if (!request || typeof request.method !== 'string' || typeof request.url !== 'string') {
    throw badRequest(`${where}.request needs a method and a url`, `${where}.request`, 'required');
  }
  const method = request.method as Method;
  if (!(method in ORDER)) throw badRequest(`${where}.request.method ${method} is not supported`, `${where}.request.method`);
  let url = request.url;
  if (url.startsWith(`${baseUrl}/`)) url = url.slice(baseUrl.length + 1);
  const [path, q] = url.split('?', 2) as [string, string | undefined];
  let segments: string[];
  try {
    segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw badRequest(`${where}.request.url is not valid percent-encoding: '${request.url}'`, `${where}.request.url`);
  }
  const p: Planned = { index, method, asSent: `${method} ${request.url}`, segments, query: q ? [...new URLSearchParams(q)] : [], request };
  if (typeof entry.fullUrl === 'string') p.fullUrl = entry.fullUrl;
  if (entry.resource) p.resource = entry.resource as Resource;
  if ((method === 'POST' || method === 'PUT') && !p.resource) throw badRequest(`${where} has no resource to ${method}`, `${where}.resource`, 'required');
  return p;
}

/** One entry as a request for the pipeline, as it would arrive over HTTP. */
function entryRequest(p: Planned, outer: FhirRequest): Incoming {
  const pre: FhirRequest['preconditions'] = {};
  const { ifMatch, ifNoneMatch, ifNoneExist, ifModifiedSince } = p.request as Record<string, string | undefined>;
  if (ifMatch) pre.ifMatch = Number(/(\d+)/.exec(ifMatch)?.[1] ?? NaN);
  if (ifNoneMatch) pre.ifNoneMatch = ifNoneMatch === '*' ? '*' : (/(\d+)/.exec(ifNoneMatch)?.[1] ?? ifNoneMatch);
  if (ifNoneExist) pre.ifNoneExist = ifNoneExist;
  if (ifModifiedSince) pre.ifModifiedSince = Date.parse(ifModifiedSince);
  const incoming: Incoming = { method: p.method, path: p.segments, query: p.query, preconditions: pre, prefer: { return: 'representation', ...(outer.prefer.strict !== undefined ? { strict: outer.prefer.strict } : {}) } };
  if (p.resource) incoming.body = p.resource;
  return incoming;
}

/** Whether an entry's response carries its body: a read's, an operation's (its result), or a write's when representation is preferred. */
function wantsBody(p: Planned, outer: FhirRequest): boolean {
  return p.method === 'GET' || p.segments.some((s) => s.startsWith('$')) || outer.prefer.return === 'representation';
}

function responseEntry(res: FhirResponse, withResource: boolean): BundleEntry {
  const e: BundleEntry = { response: { status: STATUS_TEXT[res.status] ?? String(res.status) } };
  if (res.location) e.response!.location = res.location;
  if (res.etag) e.response!.etag = res.etag;
  if (res.lastModified) e.response!.lastModified = res.lastModified;
  if (withResource && res.body) {
    if ('json' in res.body) e.resource = new RawResource(res.body.json);
    else if ('resource' in res.body) e.resource = res.body.resource;
    else if ('file' in res.body) throw badRequest('A bulk export file cannot be fetched inside a batch: GET it on its own', 'Bundle.entry.request');
    else e.resource = materialise(res.body.bundle) as Resource;
  }
  return e;
}

/**
 * Lets the event loop serve other requests between two entries. SQLite's driver is
 * synchronous, and awaiting it only queues microtasks: without this a batch of heavy reads
 * held every other request until it ended (a read waited 7.7 s behind one; issue 15, M1).
 */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * The size of a batch or transaction's answer, entry by entry, against its limit: 200 entries
 * each asking `Patient?_revinclude=*&_count=100` held SQLite for over a minute and took
 * PostgreSQL's node to 1.8 GB (issue 15, M1). Past the limit the Bundle stops there with a
 * 400 too-costly (a transaction rolls back); each read is still bounded by the time limit.
 */
class ResponseBudget {
  private used = 0;
  constructor(private readonly limit: number) {}

  charge(res: FhirResponse, index: number): void {
    this.used += sizeOf(res);
    if (this.used > this.limit) {
      throw new FhirError(
        400,
        issue('too-costly', `The answer to this Bundle passed ${this.limit} bytes at Bundle.entry[${index}] (CCRI_BUNDLE_MAX_RESPONSE_BYTES); split it, or ask for fewer resources per entry`, `Bundle.entry[${index}]`),
      );
    }
  }
}

/** About how many bytes a response's body adds to a Bundle (stored JSON by its length; anything else once serialised). */
function sizeOf(res: FhirResponse): number {
  const body = res.body;
  if (!body) return 100;
  if ('json' in body) return body.json.length;
  if ('resource' in body) return JSON.stringify(body.resource).length;
  if (!('bundle' in body)) return 200;
  let n = 200;
  for (const e of body.bundle.entry ?? []) n += 200 + (e.resource instanceof RawResource ? e.resource.json.length : e.resource ? JSON.stringify(e.resource).length : 0);
  return n;
}

async function runBatch(entries: Array<Planned | FhirError>, outer: FhirRequest, ctx: RequestContext, budget: ResponseBudget): Promise<BundleEntry[]> {
  const out: BundleEntry[] = [];
  for (const p of entries) {
    await nextTurn();
    if (p instanceof FhirError) {
      out.push({ response: { status: String(p.status), outcome: p.toOperationOutcome() as unknown as Resource } });
      continue;
    }
    let res: FhirResponse;
    try {
      res = await ctx.entry(entryRequest(p, outer), ctx);
    } catch (err) {
      const fe = err instanceof FhirError ? err : new FhirError(500, issue('exception', 'The entry could not be processed'));
      if (!(err instanceof FhirError)) ctx.log.error({ err }, 'batch entry failed');
      out.push({ response: { status: String(fe.status), outcome: fe.toOperationOutcome() as unknown as Resource } });
      continue;
    }
    budget.charge(res, p.index);
    out.push(responseEntry(res, wantsBody(p, outer)));
  }
  return out;
}

async function runTransaction(entries: Planned[], outer: FhirRequest, ctx: RequestContext, budget: ResponseBudget): Promise<BundleEntry[]> {
  // The store may run this again from the start (a deadlock or a lost race, retried:
  // sql-store.ts); what planning changes is put back first each time.
  const planned = entries.map((p) => ({ method: p.method, segments: [...p.segments], query: [...p.query], request: p.request, id: p.resource?.id }));
  const rewritten: Rewrites = [];
  return ctx.data.transaction(async (tx) => {
    entries.forEach((p, i) => {
      const was = planned[i]!;
      Object.assign(p, { method: was.method, segments: [...was.segments], query: [...was.query], request: was.request });
      if (p.resource) {
        if (was.id === undefined) delete p.resource.id;
        else p.resource.id = was.id;
      }
    });
    for (const [node, k, old] of rewritten.splice(0).reverse()) node[k] = old;
    // Every entry reads and writes through the one store transaction.
    const txCtx: RequestContext = { ...ctx, data: { ...tx, transaction: (fn) => fn(tx) } };
    await assignIds(entries, tx, txCtx, rewritten);
    // The resources the entries change, locked at once in one order: two transactions that
    // change the same resources in opposite orders wait for each other instead of deadlocking.
    await tx.lock(entries.filter((p) => p.method !== 'GET' && p.segments.length === 2).map((p) => [p.segments[0]!, p.segments[1]!]));
    const out: BundleEntry[] = new Array(entries.length);
    const ordered = [...entries].sort((x, y) => ORDER[x.method] - ORDER[y.method] || x.index - y.index);
    // The entries of one method run together, WAVE at a time, their writes gathered into one
    // writeMany (write-gather.ts); GETs run one by one, after every write.
    for (let at = 0; at < ordered.length; ) {
      const method = ordered[at]!.method;
      const wave: Planned[] = [];
      while (at < ordered.length && ordered[at]!.method === method && (method !== 'GET' || !wave.length) && wave.length < WAVE) wave.push(ordered[at++]!);
      await nextTurn();
      const gather = new WriteGather(tx, wave.length);
      const settled = await Promise.allSettled(
        wave.map((p) => {
          const entryTx = gather.txFor(p.index);
          return txCtx.entry(entryRequest(p, outer), { ...txCtx, data: { ...entryTx, transaction: (fn) => fn(entryTx) } }).finally(() => gather.done());
        }),
      );
      // The first entry (in the order they run) that failed fails the transaction.
      settled.forEach((s, k) => {
        if (s.status === 'rejected') throw failedOn(wave[k]!, s.reason);
      });
      settled.forEach((s, k) => {
        const p = wave[k]!;
        const res = (s as PromiseFulfilledResult<FhirResponse>).value;
        budget.charge(res, p.index);
        out[p.index] = responseEntry(res, wantsBody(p, outer));
      });
    }
    return out;
  });
}

/** Entries of one method that run together; the event loop gets a turn between waves. */
const WAVE = 100;

/** An entry's failure as the transaction's, naming the entry. */
function failedOn(p: Planned, err: unknown): unknown {
  if (!(err instanceof FhirError)) return err;
  return new FhirError(err.status, err.issues.map((i) => ({ ...i, diagnostics: `Transaction failed on Bundle.entry[${p.index}] (${p.asSent}): ${i.diagnostics}` })));
}

/**
 * Chooses the id of every created or conditionally updated resource, maps each
 * entry's fullUrl to its `Type/id`, and rewrites the references that use them.
 */
async function assignIds(entries: Planned[], tx: StoreTx, ctx: RequestContext, rewritten: Rewrites): Promise<void> {
  const mapped = new Map<string, string>();
  const touched = new Set<string>();
  for (const p of entries) {
    const type = p.segments[0];
    if (p.method === 'POST' && p.segments.length === 1 && type) {
      const ifNoneExist = (p.request as { ifNoneExist?: string }).ifNoneExist;
      let id: string | undefined;
      if (ifNoneExist) {
        const matches = await conditionalMatches(tx, type, parseQueryString(ifNoneExist), ctx);
        if (matches.length > 1) throw preconditionFailed(`Bundle.entry[${p.index}]: If-None-Exist matched more than one ${type}`);
        id = matches[0]?.id;
      }
      if (!id) {
        id = randomUUID();
        // Created with the id chosen here: a PUT to the new id, which is what a create is.
        p.method = 'PUT';
        p.segments = [type, id];
        p.resource!.id = id;
        p.request = { ...p.request, ifNoneExist: undefined };
      }
      if (p.fullUrl) mapped.set(p.fullUrl, `${type}/${id}`);
    } else if (p.method === 'PUT' && type) {
      if (p.segments.length === 1) {
        const matches = await conditionalMatches(tx, type, p.query, ctx);
        if (matches.length > 1) throw preconditionFailed(`Bundle.entry[${p.index}]: the conditional update matched more than one ${type}`);
        const id = matches[0]?.id ?? (typeof p.resource?.id === 'string' ? p.resource.id : randomUUID());
        p.segments = [type, id];
        p.query = [];
        p.resource!.id = id;
      }
      if (p.fullUrl) mapped.set(p.fullUrl, `${type}/${p.segments[1]}`);
    }
    if (p.method !== 'GET' && p.segments.length === 2) {
      const key = p.segments.join('/');
      if (touched.has(key)) throw badRequest(`Bundle.entry[${p.index}]: ${key} is changed by more than one entry`, `Bundle.entry[${p.index}]`);
      touched.add(key);
    }
  }
  if (mapped.size) for (const p of entries) if (p.resource) rewriteReferences(p.resource, mapped, rewritten);
}

const UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;

/**
 * What a transaction's fullUrls must be before anything is done (issue 15, L4): unique
 * within the Bundle, unless the entries are versions of one resource (bdl-7); a `urn:uuid:`
 * a UUID and a `urn:oid:` an OID; and every `urn:uuid:` or `urn:oid:` reference one of them,
 * for such a reference means nothing outside the Bundle. Each refusal names its entry.
 * https://hl7.org/fhir/STU3/bundle.html#bundle-unique
 */
function checkFullUrls(entries: Planned[]): void {
  const seen = new Map<string, Planned>();
  const versionOf = (p: Planned) => (p.resource?.meta as { versionId?: unknown } | undefined)?.versionId;
  for (const p of entries) {
    if (p.fullUrl === undefined) continue;
    const where = `Bundle.entry[${p.index}].fullUrl`;
    if (p.fullUrl.startsWith('urn:uuid:') && !UUID.test(p.fullUrl)) throw badRequest(`${where} '${p.fullUrl.slice(0, 100)}' is not a urn:uuid: followed by a UUID`, where);
    if (p.fullUrl.startsWith('urn:oid:') && !OID.test(p.fullUrl)) throw badRequest(`${where} '${p.fullUrl.slice(0, 100)}' is not a urn:oid: followed by an OID`, where);
    const earlier = seen.get(p.fullUrl);
    if (earlier && (versionOf(earlier) === undefined || versionOf(earlier) === versionOf(p))) {
      throw badRequest(`${where} '${p.fullUrl.slice(0, 100)}' is also the fullUrl of Bundle.entry[${earlier.index}]; fullUrls must be unique in a Bundle (bdl-7)`, where);
    }
    seen.set(p.fullUrl, p);
  }
  for (const p of entries) {
    if (!p.resource) continue;
    const missing = localReferences(p.resource).find((r) => !seen.has(r));
    if (missing !== undefined) {
      throw badRequest(`Bundle.entry[${p.index}].resource refers to '${missing.slice(0, 100)}', which is the fullUrl of no entry in the Bundle`, `Bundle.entry[${p.index}].resource`);
    }
  }
}

/** The `urn:uuid:` and `urn:oid:` references anywhere in a resource (iteratively: the body's depth is bounded, but no recursion is needed). */
function localReferences(resource: unknown): string[] {
  const out: string[] = [];
  const stack: unknown[] = [resource];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'reference' && typeof v === 'string' && (v.startsWith('urn:uuid:') || v.startsWith('urn:oid:'))) out.push(v);
        else if (typeof v === 'object') stack.push(v);
      }
    }
  }
  return out;
}

/** The references rewritten, with what they were, so that a retried transaction can put them back. */
type Rewrites = Array<[Record<string, unknown>, string, unknown]>;

function rewriteReferences(node: unknown, mapped: Map<string, string>, rewritten: Rewrites): void {
  if (Array.isArray(node)) {
    for (const x of node) rewriteReferences(x, mapped, rewritten);
  } else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'reference' && typeof v === 'string' && mapped.has(v)) {
        rewritten.push([o, k, v]);
        o[k] = mapped.get(v);
      } else if (typeof v === 'object') rewriteReferences(v, mapped, rewritten);
    }
  }
}
