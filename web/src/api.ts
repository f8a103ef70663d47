import type { Bundle, OperationOutcome, Resource } from './fhir-types.js';

export type Params = Record<string, string | string[] | undefined> | URLSearchParams | Array<[string, string]>;

/** An answer from the API that was not a success, with the OperationOutcome's text when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
    readonly outcome?: OperationOutcome,
  ) {
    super(message);
  }
}

/**
 * The explorer's only way to the data: HTTP calls to a FHIR base, as any client
 * makes them. A token (for the secure base, later) travels as a bearer header.
 */
export class FhirApi {
  readonly base: string;
  constructor(
    base: string,
    private readonly token?: string,
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  /** The absolute URL of a path under the base (or a URL already absolute), with query parameters. */
  url(path: string, params?: Params): string {
    const u = /^https?:\/\//.test(path) ? new URL(path) : new URL(`${this.base}/${path.replace(/^\/+/, '')}`);
    for (const [k, v] of entries(params)) u.searchParams.append(k, v);
    return u.toString();
  }

  /** Whether a URL lies under this base: paging links are followed only then. */
  owns(url: string): boolean {
    return url === this.base || url.startsWith(`${this.base}/`) || url.startsWith(`${this.base}?`);
  }

  async json<T = Resource>(path: string, params?: Params, init: RequestInit = {}): Promise<T> {
    const res = await this.fetch(this.url(path, params), { ...init, headers: { accept: 'application/fhir+json', ...(init.headers as Record<string, string> | undefined) } });
    return (await res.json()) as T;
  }

  async search<T extends Resource = Resource>(path: string, params?: Params): Promise<Bundle<T>> {
    return this.json<Bundle<T>>(path, params);
  }

  async text(path: string, accept: string, params?: Params): Promise<string> {
    const res = await this.fetch(this.url(path, params), { headers: { accept } });
    return res.text();
  }

  /** POSTs a body and returns the parsed JSON answer, even for a 4xx that carries an OperationOutcome. */
  async post<T = Resource>(path: string, body: string, contentType: string, params?: Params): Promise<{ status: number; body: T }> {
    const url = this.url(path, params);
    const res = await this.fetch(url, { method: 'POST', body, headers: { 'content-type': contentType, accept: 'application/fhir+json' } }, true);
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as T };
    } catch {
      throw new ApiError(`${res.status} ${res.statusText}: the answer was not JSON`, res.status, url);
    }
  }

  private async fetch(url: string, init: RequestInit, keepErrors = false): Promise<Response> {
    const headers = { ...(init.headers as Record<string, string>), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) };
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers });
    } catch {
      throw new ApiError(`Could not reach the FHIR API at ${this.base}. Is the server running?`, 0, url);
    }
    if (res.ok || (keepErrors && res.status < 500 && res.status !== 401 && res.status !== 403)) return res;
    throw await errorFrom(res, url);
  }
}

async function errorFrom(res: Response, url: string): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let outcome: OperationOutcome | undefined;
  try {
    const parsed = JSON.parse(text) as Resource;
    if (parsed.resourceType === 'OperationOutcome') outcome = parsed as OperationOutcome;
  } catch {
    // Not JSON: the status line says what there is to say.
  }
  const message = outcome ? outcomeText(outcome) : `${res.status} ${res.statusText}`;
  return new ApiError(message || `${res.status} ${res.statusText}`, res.status, url, outcome);
}

/** The human text of an OperationOutcome: each issue's details or diagnostics. */
export function outcomeText(outcome: OperationOutcome): string {
  return (outcome.issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? i.code).filter(Boolean).join(' ');
}

function entries(params: Params | undefined): Array<[string, string]> {
  if (!params) return [];
  if (params instanceof URLSearchParams || Array.isArray(params)) return [...params];
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, one]);
  }
  return out;
}
