import type { Issue } from '../fhir/outcome.js';
import type { BundleData } from './bundle.js';
import type { SearchRegistry } from '../search/registry.js';
import type { Store, StoreReader, StoreTx } from '../store/store.js';

/**
 * What an interaction sees of a request and returns as a response. Handlers know
 * nothing of HTTP: the http/ layer builds a FhirRequest and renders a FhirResponse.
 */

export type Resource = Record<string, unknown> & { resourceType: string; id?: string };

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

export interface FhirRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  type?: string;
  id?: string;
  version?: string;
  /** For `Patient/{id}/{type}` compartment searches. */
  compartment?: { type: string; id: string };
  /** Query parameters in order, repeated names kept. */
  query: Array<[string, string]>;
  body?: Resource;
  preconditions: Preconditions;
  prefer: { return?: ReturnPreference; strict?: boolean };
}

/** A response body: a resource object, JSON text straight from the store, or a Bundle whose entries may be either. */
export type Body = { resource: Resource } | { json: string } | { bundle: BundleData };

export interface FhirResponse {
  status: number;
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
  /** Write validation against profiles: off, warn, enforce, or claimed (enforce when meta.profile claims one, else warn). */
  validation: 'off' | 'warn' | 'enforce' | 'claimed';
}

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface RequestContext {
  store: Store;
  registry: SearchRegistry;
  config: ServerConfig;
  clock: () => number;
  log: Logger;
}

/** Inside a transaction Bundle, reads and writes go through the transaction. */
export interface WriteScope {
  tx: StoreTx;
  reader: StoreReader;
  warnings: Issue[];
}

export type Interaction = (req: FhirRequest, ctx: RequestContext) => Promise<FhirResponse>;
