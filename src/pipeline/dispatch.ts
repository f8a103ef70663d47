import { timeOrderedId } from '../fhir/ids.js';
import { badRequest, FhirError, issue } from '../fhir/outcome.js';
import type { Access } from '../search/access.js';
import { Cancellation } from '../store/cancel.js';

/** What the HTTP layer aborts when a client goes away (store/cancel.ts). */
export { Cancellation };
import type { Store, StoreReader } from '../store/store.js';
import type { BaseSecurity, Caller, Data, FhirResponse, Incoming, Logger, RequestContext, Resource, ServerContext } from '../interactions/types.js';
import type { Policy } from './policy.js';
import { fhirRequest } from './request.js';
import { route, type Target } from './route.js';
import { observed, type Trail } from './trail.js';

/** What the record step is told of every request, whatever its outcome. */
export interface RequestRecord {
  requestId: string;
  incoming: Incoming;
  /** Undefined when the request was refused before it was identified. */
  caller?: Caller | undefined;
  /** Undefined when the request could not be routed. */
  target?: Target | undefined;
  response: FhirResponse;
  /** Epoch ms when the pipeline took the request. */
  started: number;
}

/** The record step: the audit trail (src/audit) plugs in here. */
export interface Recorder {
  /** A trail for one request, which the pipeline feeds with what the request reads and writes. */
  begin?(requestId: string, incoming: Incoming, started: number): Trail;
  /**
   * Records a request once it is answered, before the answer leaves (a write's record
   * may already be committed with the write: the trail knows).
   */
  record(record: RequestRecord, trail?: Trail): Promise<void>;
}

/** A FHIR base: where it is published and how it treats callers. */
export interface Base {
  /** The public URL of the base, e.g. http://localhost:8080/STU3: links and Locations use it. */
  url: string;
  policy: Policy;
  recorder?: Recorder;
  /** How the base is secured, for its CapabilityStatement and SMART configuration. */
  security?: BaseSecurity;
}

export interface Pipeline {
  /**
   * Runs a request end to end: identify, route, authorise, interaction, record. Never
   * throws: an error is answered with its OperationOutcome (a generic 500 for the
   * unexpected, whose detail goes only to the log).
   */
  dispatch(incoming: Incoming, options?: { requestId?: string; log?: Logger; signal?: Cancellation; routed?: (target: Target) => void }): Promise<FhirResponse>;
  /**
   * Answers a request its transport could not hand over (a URL that does not decode, a
   * format that cannot be produced, a body too large) with `error`, and records it as
   * any other request.
   */
  refuse(incoming: Incoming, error: unknown, options?: { requestId?: string; log?: Logger }): Promise<FhirResponse>;
}

/**
 * The one dispatcher (docs/architecture.md, "The request pipeline"). HTTP requests,
 * bundle entries and in-process callers all come through here, so there is one place
 * where a caller is identified, authorised and recorded.
 */
export function createPipeline(server: ServerContext, base: Base): Pipeline {
  const config = { ...server.config, baseUrl: base.url, ...(base.security ? { security: base.security } : {}), ...(base.policy.unserved ? { unserved: base.policy.unserved } : {}) };
  const { policy } = base;

  const entry = async (incoming: Incoming, within: RequestContext): Promise<FhirResponse> => {
    const target = route(incoming.method, incoming.path, server.operations);
    if (target.code === 'transaction') throw badRequest('A batch or transaction cannot hold another batch or transaction', 'Bundle.entry.request');
    const req = fhirRequest(incoming, target);
    policy.authorise(within.caller, target, req);
    const trail = (within as Traced)[TRAIL];
    trail?.entry(target);
    try {
      return await target.interaction(req, within);
    } finally {
      trail?.entry(undefined);
    }
  };

  // No answer leaves unrecorded: when its record cannot be committed, the request is answered 503 instead (the store's own failure is logged by the recorder).
  // A base that records nothing answers at once (no promise of its own: each is a turn of the event loop's microtasks a request), and makes no record.
  const finish = (recorder: Recorder, record: RequestRecord, log: Logger, trail?: Trail): Promise<FhirResponse> =>
    recorder.record(record, trail).then(
      () => record.response,
      (err: unknown) => {
        log.error({ err }, 'the request could not be recorded in the audit trail; answered 503');
        return errorResponse(new FhirError(503, issue('transient', 'The request could not be recorded in the audit trail; try again later'), { 'Retry-After': '5' }), log);
      },
    );

  return {
    async refuse(incoming, error, options = {}) {
      const started = server.clock();
      const requestId = options.requestId ?? timeOrderedId();
      const log = options.log ?? lazyChild(server.log, requestId);
      const response = errorResponse(error, log);
      return base.recorder ? finish(base.recorder, { requestId, incoming, response, started }, log) : response;
    },

    async dispatch(incoming, options = {}) {
      const started = server.clock();
      const requestId = options.requestId ?? timeOrderedId();
      const log = options.log ?? lazyChild(server.log, requestId);
      let caller: Caller | undefined;
      let target: Target | undefined;
      let response: FhirResponse;
      const trail = base.recorder?.begin?.(requestId, incoming, started);
      try {
        const identified = policy.identify(incoming);
        caller = identified instanceof Promise ? await identified : identified;
        trail?.identified(caller);
        target = route(incoming.method, incoming.path, server.operations);
        trail?.routed(target);
        options.routed?.(target);
        const req = fhirRequest(incoming, target);
        policy.authorise(caller, target, req);
        // Its reads and writes stop when the client disconnects: the store cancels the database work done for it (store/cancel.ts).
        const data = dataFor(server.store, caller.access, options.signal);
        const ctx: RequestContext & Traced = {
          registry: server.registry,
          operations: server.operations,
          config: incoming.baseUrl && incoming.baseUrl !== config.baseUrl ? { ...config, baseUrl: incoming.baseUrl } : config,
          clock: server.clock,
          log,
          ...(server.bulk ? { bulk: server.bulk } : {}),
          ...(server.terminologyServer ? { terminologyServer: server.terminologyServer } : {}),
          requestId,
          caller,
          data: trail ? observed(server.store, caller.access, data, trail, options.signal) : data,
          entry,
          ...(trail ? { [TRAIL]: trail } : {}),
        };
        response = await target.interaction(req, ctx);
      } catch (err) {
        response = errorResponse(err, log);
      }
      return base.recorder ? await finish(base.recorder, { requestId, incoming, caller, target, response, started }, log, trail) : response;
    },
  };
}

/** The request's trail, carried by its context (and the contexts of its bundle entries, which copy it) but no part of what handlers see. */
const TRAIL = Symbol('trail');
interface Traced {
  [TRAIL]?: Trail;
}

/** A logger carrying the request id, made only when a line is logged (most requests log nothing of their own). */
function lazyChild(log: Logger, reqId: string): Logger {
  let child: Logger | undefined;
  const get = () => (child ??= log.child({ reqId }));
  return {
    info: (obj, msg) => get().info(obj, msg),
    warn: (obj, msg) => get().warn(obj, msg),
    error: (obj, msg) => get().error(obj, msg),
    child: (bindings) => get().child(bindings),
  };
}

const datas = new WeakMap<Store, WeakMap<Access, Data>>();

/**
 * The data a caller with `access` reaches: the store's narrowed reader, and transactions
 * under the same access. A request whose client may go away (`signal`) gets its own, which
 * stops with it; without one, it is made once per access value.
 */
export function dataFor(store: Store, access: Access, signal?: Cancellation): Data {
  if (signal) return withTransactions(store.reader(access, signal), (fn) => store.transaction(access, fn, { signal }));
  let byAccess = datas.get(store);
  if (!byAccess) datas.set(store, (byAccess = new WeakMap()));
  let data = byAccess.get(access);
  if (!data) {
    data = withTransactions(store.reader(access), (fn) => store.transaction(access, fn));
    byAccess.set(access, data);
  }
  return data;
}

/** A reader and its transactions as one object, of one shape whatever made the reader (a spread copied its properties one by one, at every request). */
function withTransactions(reader: StoreReader, transaction: Data['transaction']): Data {
  return { read: reader.read, vread: reader.vread, history: reader.history, search: reader.search, transaction };
}

/** An error as the response that reports it. */
export function errorResponse(err: unknown, log: Logger): FhirResponse {
  const fe = err instanceof FhirError ? err : unexpected(err, log);
  const res: FhirResponse = { status: fe.status, body: { resource: fe.toOperationOutcome() as unknown as Resource } };
  if (Object.keys(fe.headers).length) res.headers = { ...fe.headers };
  return res;
}

function unexpected(err: unknown, log: Logger): FhirError {
  log.error({ err }, 'unexpected error');
  return new FhirError(500, issue('exception', 'An unexpected error occurred; it has been logged'));
}
