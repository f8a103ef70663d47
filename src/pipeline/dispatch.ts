import { randomUUID } from 'node:crypto';
import { badRequest, FhirError, issue } from '../fhir/outcome.js';
import type { Access } from '../search/access.js';
import { withCancellation } from '../store/cancel.js';
import type { Store } from '../store/store.js';
import type { BaseSecurity, Caller, Data, FhirResponse, Incoming, Logger, RequestContext, Resource, ServerContext } from '../interactions/types.js';
import type { Policy } from './policy.js';
import { fhirRequest } from './request.js';
import { route, type Target } from './route.js';

/** What the record step is told of every request, whatever its outcome. */
export interface RequestRecord {
  requestId: string;
  incoming: Incoming;
  /** Absent when the request was refused before it was identified. */
  caller?: Caller;
  /** Absent when the request could not be routed. */
  target?: Target;
  response: FhirResponse;
  /** Epoch ms when the pipeline took the request. */
  started: number;
}

/** The record step: the audit trail (issue 11) plugs in here. */
export interface Recorder {
  record(record: RequestRecord): Promise<void>;
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
  dispatch(incoming: Incoming, options?: { requestId?: string; log?: Logger; signal?: AbortSignal }): Promise<FhirResponse>;
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
  const config = { ...server.config, baseUrl: base.url, ...(base.security ? { security: base.security } : {}) };
  const { policy } = base;

  const entry = async (incoming: Incoming, within: RequestContext): Promise<FhirResponse> => {
    const target = route(incoming.method, incoming.path, server.operations);
    if (target.code === 'transaction') throw badRequest('A batch or transaction cannot hold another batch or transaction', 'Bundle.entry.request');
    const req = fhirRequest(incoming, target);
    policy.authorise(within.caller, target, req);
    return target.interaction(req, within);
  };

  const finish = async (record: RequestRecord): Promise<FhirResponse> => {
    if (base.recorder) await base.recorder.record(record);
    return record.response;
  };

  return {
    async refuse(incoming, error, options = {}) {
      const started = server.clock();
      const requestId = options.requestId ?? randomUUID();
      const log = options.log ?? lazyChild(server.log, requestId);
      return finish({ requestId, incoming, response: errorResponse(error, log), started });
    },

    async dispatch(incoming, options = {}) {
      const started = server.clock();
      const requestId = options.requestId ?? randomUUID();
      const log = options.log ?? lazyChild(server.log, requestId);
      let caller: Caller | undefined;
      let target: Target | undefined;
      let response: FhirResponse;
      try {
        caller = await policy.identify(incoming);
        target = route(incoming.method, incoming.path, server.operations);
        const req = fhirRequest(incoming, target);
        policy.authorise(caller, target, req);
        const ctx: RequestContext = {
          registry: server.registry,
          operations: server.operations,
          config,
          clock: server.clock,
          log,
          requestId,
          caller,
          data: dataFor(server.store, caller.access),
          entry,
        };
        const run = target.interaction;
        // Aborted when the client disconnects: the store cancels the database work done for it (store/cancel.ts).
        response = await (options.signal ? withCancellation(options.signal, () => run(req, ctx)) : run(req, ctx));
      } catch (err) {
        response = errorResponse(err, log);
      }
      return finish({ requestId, incoming, ...(caller ? { caller } : {}), ...(target ? { target } : {}), response, started });
    },
  };
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
 * under the same access. Made once per access value (the open base's is one for every
 * request).
 */
export function dataFor(store: Store, access: Access): Data {
  let byAccess = datas.get(store);
  if (!byAccess) datas.set(store, (byAccess = new WeakMap()));
  let data = byAccess.get(access);
  if (!data) {
    data = { ...store.reader(access), transaction: (fn) => store.transaction(access, fn) };
    byAccess.set(access, data);
  }
  return data;
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
