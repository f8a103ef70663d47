import type { Resource } from '../fhir/resource.js';
import type { Access } from '../search/access.js';
import type { SearchRegistry } from '../search/registry.js';
import type { Store, StoreReader, StoreTx } from '../store/store.js';
import type { RemoteTerminology } from '../terminology/remote.js';
import type { BundleData } from './bundle.js';

/**
 * The contract between the request pipeline (src/pipeline) and the interactions and
 * operations it runs. Handlers know nothing of HTTP: a transport turns what it receives
 * into an `Incoming` request, the pipeline routes and authorises it into a `FhirRequest`
 * and a `RequestContext`, and renders the `FhirResponse` the handler returns.
 */

export type { Resource };

export interface Preconditions {
  /** If-Match: the version the client holds (from W/"n"). */
  ifMatch?: number;
  /** If-None-Match: the version the client holds, or '*'. */
  ifNoneMatch?: string;
  /** If-Modified-Since, epoch ms. */
  ifModifiedSince?: number;
  /** If-None-Exist: a search query string. */
  ifNoneExist?: string;
}

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A request as a transport received it, before routing: HTTP, a bundle entry, or an in-process caller. */
export interface Incoming {
  /** The HTTP method, as received (the router refuses those the API has no use for). */
  method: string;
  /** The path below the base, split at '/' and percent-decoded. */
  path: string[];
  /** Query parameters in order, repeated names kept. */
  query: Array<[string, string]>;
  preconditions: Preconditions;
  prefer: FhirRequest['prefer'];
  /** A body already parsed (bundle entries, in-process callers). */
  body?: Resource;
  /** A body as received, parsed once the route is known (a form-encoded `_search` adds to the query). */
  text?: { body: string; contentType?: string };
  /** The request's credentials: the `Authorization` header as sent. */
  authorization?: string;
  /** The network address the request came from. */
  address?: string;
  /**
   * The base URL the client reached, when a trusted proxy said so (X-Forwarded-Proto and
   * -Host, CCRI_TRUST_PROXY): links and Locations then name it instead of the configured one.
   */
  baseUrl?: string;
}

export interface FhirRequest {
  method: Method;
  type?: string;
  id?: string;
  version?: string;
  /** For `Patient/{id}/{type}` compartment searches. */
  compartment?: { type: string; id: string };
  /** Query parameters in order, repeated names kept. */
  query: Array<[string, string]>;
  body?: Resource;
  preconditions: Preconditions;
  prefer: { return?: ReturnPreference; strict?: boolean; respondAsync?: boolean };
}

/**
 * A response body: a resource object, JSON text straight from the store, a Bundle whose
 * entries may be either, or a file sent as it is (a bulk export's NDJSON; its
 * `Content-Type` in the response's headers).
 */
export type Body = { resource: Resource } | { json: string } | { bundle: BundleData } | { file: string };

export interface FhirResponse {
  status: number;
  /** Headers an error or a policy adds (e.g. WWW-Authenticate, Retry-After). */
  headers?: Record<string, string>;
  body?: Body;
  etag?: string;
  /** An ISO instant; the HTTP layer writes it as an HTTP date. */
  lastModified?: string;
  location?: string;
  contentLocation?: string;
}

export interface ServerConfig {
  /** The public base URL, e.g. http://localhost:8080/STU3. */
  baseUrl: string;
  defaultCount: number;
  maxCount: number;
  /** The secret that signs paging cursors (shared by every node). */
  cursorSecret: string;
  /**
   * How the base is secured, when it is (the secure base): the authorization server's
   * endpoints and the SMART capabilities, declared in the CapabilityStatement and in
   * `.well-known/smart-configuration`.
   */
  security?: BaseSecurity;
  /** Resource types this base does not serve at all (the open base: AuditEvent), left out of its CapabilityStatement. */
  unserved?: readonly string[];
  /** Write validation against profiles: off, warn, enforce, or claimed (enforce when meta.profile claims one, else warn). */
  validation: 'off' | 'warn' | 'enforce' | 'claimed';
  /** Unknown or unsupported search parameters: strict (400) or lenient (ignored, with a warning); `Prefer: handling=` overrides it. */
  searchHandling: 'strict' | 'lenient';
  /** The most entries a batch or transaction Bundle may have (400 too-costly above; unset: 1,000). */
  bundleMaxEntries?: number;
  /** The most a batch or transaction's answer may hold, in bytes of its entries (400 too-costly once passed; unset: 16 MB). */
  bundleMaxResponseBytes?: number;
}

/** How a secured base tells clients where to get a token (SMART App Launch 1.0, "Conformance"). */
export interface BaseSecurity {
  endpoints: {
    authorization?: string;
    token?: string;
    registration?: string;
    introspection?: string;
    revocation?: string;
    management?: string;
    jwks?: string;
  };
  /** The issuer of the tokens the base accepts. */
  issuer: string;
  /** SMART capabilities (`launch-standalone`, `permission-patient`…). */
  capabilities: string[];
  /** How clients authenticate at the token endpoint. */
  tokenEndpointAuthMethods: string[];
  scopesSupported: string[];
}

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  /** A logger whose every line carries `bindings` (the request id, say). */
  child(bindings: Record<string, unknown>): Logger;
}

/** An operation (`$validate`, `$everything`…): where it may be called, and what it does. https://hl7.org/fhir/STU3/operations.html */
export interface OperationDef {
  /** The name with its `$`. */
  name: string;
  levels: ReadonlyArray<'system' | 'type' | 'instance'>;
  /** The resource types it may be called on at type and instance level; every type when absent. */
  types?: readonly string[];
  methods: readonly Method[];
  /** Whether it changes data (a scope to write is needed) or only reads. */
  affectsState: boolean;
  /**
   * Its OperationDefinition, served at `[base]/OperationDefinition/{id}` (the url is the
   * base's) and declared in the CapabilityStatement. None for the endpoints an operation
   * hands out rather than declares (a bulk export's status URL and files).
   */
  definition?: OperationDefinitionSpec;
  interaction: Interaction;
}

/** An OperationDefinition without its `url` (each base names its own): https://hl7.org/fhir/STU3/operationdefinition.html */
export interface OperationDefinitionSpec {
  id: string;
  /** The rest of the resource: name, code, kind, system/type/instance, parameter… */
  resource: Record<string, unknown>;
}

/**
 * The operations the server supports: the router, the CapabilityStatement, the
 * OperationDefinitions served and bundle entries all read this one registry. Several
 * operations may share a name on different types (`ValueSet/$validate-code`,
 * `CodeSystem/$validate-code`).
 */
export interface OperationRegistry {
  /** The operation called `name` at `level`, on `type` (none at system level), if there is one. */
  find(name: string, level: 'system' | 'type' | 'instance', type?: string): OperationDef | undefined;
  /** Every operation called `name`. */
  named(name: string): readonly OperationDef[];
  all(): readonly OperationDef[];
}

/** Who is asking, once the pipeline has identified them. */
export interface Caller {
  /** 'anonymous' on the open base (and on the secure base before a token is shown). */
  kind: 'anonymous' | 'user' | 'patient' | 'system';
  /** What the caller may see: every read it makes is narrowed by this. */
  access: Access;
  /** The network address the request came from. */
  address?: string;
  /** Who the token names: the user, or the client itself for backend services. */
  subject?: string;
  /** The client application the token was issued to. */
  client?: string;
  /** The launch patient, for `patient/` scopes. */
  patient?: string;
  /** The absolute URL of the user's Practitioner or Patient resource. */
  fhirUser?: string;
}

/** The data a request reaches, narrowed to its caller's access: reads, and transactions whose reads are narrowed too. */
export interface Data extends StoreReader {
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
}

/** What a bulk export covers (https://hl7.org/fhir/uv/bulkdata/STU1/export/index.html). */
export interface ExportSpec {
  level: 'system' | 'patient' | 'group';
  /** The Group's id, for a group export. */
  group?: string;
  /** The Group's members (Patient ids), for a group export. */
  members?: string[];
  /** The resource types to export. */
  types: string[];
  /** Only resources changed at or after this instant (epoch ms). */
  since?: number;
}

/** Whose export it is: the base, a keyed hash of the caller (cursor.ts, callerKey), what they may see, and the kick-off URL. */
export interface ExportCaller {
  base: string;
  owner: string;
  access: Access;
  request: string;
  /** Whether downloading the files needs the token (the secure base). */
  requiresAccessToken: boolean;
}

/** Where a job is, for its status URL. */
export type ExportState =
  | { state: 'running'; progress: string }
  | { state: 'done'; manifest: Record<string, unknown>; expires: number }
  | { state: 'failed'; error: string };

/** Bulk data export jobs, shared by every node through the store (src/data/export-jobs). */
export interface BulkExports {
  /** Queues an export; its job id. */
  start(spec: ExportSpec, caller: ExportCaller): Promise<string>;
  /** The job's state, when it exists and is the caller's (on the caller's base). */
  status(id: string, caller: Pick<ExportCaller, 'base' | 'owner'>): Promise<ExportState | undefined>;
  /** Cancels (and removes) the caller's job; false when there is none. */
  cancel(id: string, caller: Pick<ExportCaller, 'base' | 'owner'>): Promise<boolean>;
  /** The path of an output file of the caller's finished job. */
  file(id: string, name: string, caller: Pick<ExportCaller, 'base' | 'owner'>): Promise<string | undefined>;
}

/** What the server holds for every request: built once. */
export interface ServerContext {
  /** The request-facing store: readers and transactions exist only for an access value. */
  store: Store;
  registry: SearchRegistry;
  operations: OperationRegistry;
  config: ServerConfig;
  clock: () => number;
  log: Logger;
  /** Bulk data export jobs, where the server runs them (not in the commands). */
  bulk?: BulkExports;
  /** The remote terminology server (`CCRI_TERMINOLOGY_URL`) the validator and search's `:in`, `:below`… ask, when one is configured. */
  terminologyServer?: RemoteTerminology;
}

/**
 * What an interaction runs with: the server's parts (but not its store), and the
 * request's own: who asks, their access, the data as they may see it, the request id and
 * a logger that carries it. https://hl7.org/fhir/STU3/http.html
 */
export interface RequestContext extends Omit<ServerContext, 'store'> {
  requestId: string;
  caller: Caller;
  /** The only way to the data: reads and transactions narrowed to `caller.access`. */
  data: Data;
  /**
   * Runs one entry of a batch or transaction through the pipeline (route, authorise,
   * interaction) as this request's caller, with `within` (whose data may be a store
   * transaction's). Throws what the entry's interaction throws.
   */
  entry(incoming: Incoming, within: RequestContext): Promise<FhirResponse>;
}

export type Interaction = (req: FhirRequest, ctx: RequestContext) => Promise<FhirResponse>;
