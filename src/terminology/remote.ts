import { LRUCache } from 'lru-cache';
import { Agent, request } from 'undici';

/**
 * The client of a remote FHIR STU3 terminology server (`CCRI_TERMINOLOGY_URL`, `ccri validate
 * --tx`), for the code systems this server cannot hold: SNOMED CT, dm+d, LOINC, ICD-10.
 * It asks `CodeSystem/$validate-code`, `ValueSet/$validate-code`, `ValueSet/$expand` and
 * `CodeSystem/$lookup` (https://hl7.org/fhir/STU3/terminology-service.html).
 *
 * - Answers are kept in an LRU cache, bounded in entries, bytes and time; the same question
 *   asked while it is in flight waits for the one call.
 * - Each call has a timeout covering the whole exchange (any wait for one of the few
 *   connections included). A call that fails (unreachable, a timeout, a 5xx, an answer that
 *   is not the FHIR JSON asked for, or larger than the limit) throws {@link TerminologyUnavailable},
 *   and the server is then taken as unavailable for a short while, so that every request
 *   does not wait for the timeout in turn.
 * - Its answers are not trusted: size-limited, parsed defensively, their text shortened and
 *   stripped of control characters before it is quoted in an issue.
 * - A 4xx with an answer is an answer: the server cannot answer that question (it does not know
 *   the code system or the value set). It is cached like any answer.
 */

/** What the server answered to "is this code valid (in this code system or value set)?" */
export type CheckAnswer = { answered: true; result: boolean; message?: string; display?: string } | { answered: false; message: string };

/** The codes of a value set, or why the server would not list them. */
export type ExpandAnswer = { answered: true; codes: Array<{ system: string; code: string }>; total?: number } | { answered: false; message: string };

/** What a code system says of a code: its display and the codes just above it. */
export type LookupAnswer = { answered: true; display?: string; parents: string[] } | { answered: false; message: string };

/** The remote server could not be asked, or did not answer properly. */
export class TerminologyUnavailable extends Error {
  constructor(
    message: string,
    /** Seconds until it is asked again. */
    readonly retryAfter: number,
  ) {
    super(message);
    this.name = 'TerminologyUnavailable';
  }
}

export interface RemoteTerminologyOptions {
  /** The server's FHIR base URL (http or https, no credentials). */
  url: string;
  /** The longest one call may take, in ms (default 5,000). */
  timeoutMs?: number;
  /** The most answers kept (default 10,000; 0 keeps none). */
  cacheEntries?: number;
  /** How long an answer is kept, in ms (default one hour). */
  cacheTtlMs?: number;
  /** The code systems to ask about: a list of URIs, or '*' for any this server does not hold. */
  systems?: readonly string[] | '*';
  /** The largest answer accepted, in bytes (default 4 MB). */
  maxAnswerBytes?: number;
  /** Connections to the server at once (default 8); further calls wait their turn, within their timeout. */
  connections?: number;
  /** How long the server is taken as unavailable after a failed call, in ms (default 10,000). */
  downMs?: number;
}

/** The code systems asked about by default: the big ones the NHS codes with and this server cannot hold. */
export const DEFAULT_SYSTEMS: readonly string[] = [
  'http://snomed.info/sct',
  'https://dmd.nhs.uk',
  'http://loinc.org',
  'http://hl7.org/fhir/sid/icd-10',
  'http://hl7.org/fhir/sid/icd-10-uk',
];

/** The longest message of the remote server quoted in an issue. */
const MAX_MESSAGE = 500;
/** The deepest `contains` nesting read from an expansion. */
const MAX_NESTING = 20;
/** The most parents read from one $lookup. */
const MAX_PARENTS = 100;
/** The longest code accepted from an answer. */
const MAX_CODE = 256;

type Answer = CheckAnswer | ExpandAnswer | LookupAnswer;

export class RemoteTerminology {
  /** The server's base URL, as shown in messages. */
  readonly url: string;
  readonly timeoutMs: number;
  private readonly systems: ReadonlySet<string> | '*';
  private readonly agent: Agent;
  private readonly cache: LRUCache<string, Answer> | undefined;
  private readonly inFlight = new Map<string, Promise<Answer>>();
  private readonly downMs: number;
  private down: { until: number; reason: string } | undefined;

  constructor(options: RemoteTerminologyOptions) {
    this.url = checkUrl(options.url);
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.downMs = options.downMs ?? 10_000;
    const systems = options.systems ?? DEFAULT_SYSTEMS;
    this.systems = systems === '*' ? '*' : new Set(systems);
    const maxAnswerBytes = options.maxAnswerBytes ?? 4 * 1024 * 1024;
    this.agent = new Agent({
      connections: options.connections ?? 8,
      maxResponseSize: maxAnswerBytes,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: { timeout: this.timeoutMs },
    });
    const entries = options.cacheEntries ?? 10_000;
    if (entries > 0) {
      this.cache = new LRUCache<string, Answer>({
        max: entries,
        ttl: options.cacheTtlMs ?? 3_600_000,
        // Expansions can be large: the cache holds at most 64 MB of answers, as JSON.
        maxSize: 64 * 1024 * 1024,
        sizeCalculation: (a) => Math.max(1, JSON.stringify(a).length),
      });
    }
  }

  /** Whether codes of this code system are asked about. */
  asks(system: string | undefined): boolean {
    return system !== undefined && (this.systems === '*' || this.systems.has(system));
  }

  /** `CodeSystem/$validate-code`: is the code in the code system (and, when given, the display one of its displays)? */
  validateCode(system: string, code: string, display?: string): Promise<CheckAnswer> {
    const query: Array<[string, string]> = [['url', system], ['code', code], ...(display !== undefined ? [['display', display] as [string, string]] : [])];
    return this.ask(`cs-validate\u0000${system}\u0000${code}\u0000${display ?? ''}`, () => this.get('CodeSystem/$validate-code', query), readCheck) as Promise<CheckAnswer>;
  }

  /** `ValueSet/$validate-code`: is the code in the value set, named by URL or given whole? */
  inValueSet(valueSet: string | Record<string, unknown>, system: string | undefined, code: string): Promise<CheckAnswer> {
    const coding = [...(system !== undefined ? [['system', system] as [string, string]] : []), ['code', code] as [string, string]];
    if (typeof valueSet === 'string') {
      return this.ask(`vs-validate\u0000${valueSet}\u0000${system ?? ''}\u0000${code}`, () => this.get('ValueSet/$validate-code', [['url', valueSet], ...coding]), readCheck) as Promise<CheckAnswer>;
    }
    const body = parameters([{ name: 'valueSet', resource: valueSet }, ...(system !== undefined ? [{ name: 'system', valueUri: system }] : []), { name: 'code', valueCode: code }]);
    return this.ask(`vs-validate-given\u0000${JSON.stringify(valueSet)}\u0000${system ?? ''}\u0000${code}`, () => this.post('ValueSet/$validate-code', body), readCheck) as Promise<CheckAnswer>;
  }

  /** `ValueSet/$expand`: the codes of a value set, named by URL or given whole; at most `max` of them are asked for. */
  expand(valueSet: string | Record<string, unknown>, max: number): Promise<ExpandAnswer> {
    if (typeof valueSet === 'string') {
      return this.ask(`expand\u0000${valueSet}\u0000${max}`, () => this.get('ValueSet/$expand', [['url', valueSet], ['count', String(max)]]), readExpansion) as Promise<ExpandAnswer>;
    }
    const body = parameters([{ name: 'valueSet', resource: valueSet }, { name: 'count', valueInteger: max }]);
    return this.ask(`expand-given\u0000${JSON.stringify(valueSet)}\u0000${max}`, () => this.post('ValueSet/$expand', body), readExpansion) as Promise<ExpandAnswer>;
  }

  /** `CodeSystem/$lookup` with `property=parent`: the code's display and the codes just above it. */
  lookup(system: string, code: string): Promise<LookupAnswer> {
    return this.ask(`lookup\u0000${system}\u0000${code}`, () => this.get('CodeSystem/$lookup', [['system', system], ['code', code], ['property', 'parent']]), readLookup) as Promise<LookupAnswer>;
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private async ask(key: string, call: () => Promise<Reply>, read: (reply: Reply) => Answer): Promise<Answer> {
    const hit = this.cache?.get(key);
    if (hit) return hit;
    const waiting = this.inFlight.get(key);
    if (waiting) return waiting;
    const down = this.down;
    if (down && Date.now() < down.until) {
      throw new TerminologyUnavailable(`the terminology server ${this.url} is unavailable (${down.reason}); it is asked again from ${new Date(down.until).toISOString()}`, Math.ceil((down.until - Date.now()) / 1000));
    }
    const promise = (async () => {
      let answer: Answer;
      try {
        answer = read(await call());
      } catch (err) {
        const reason = err instanceof Malformed ? err.message : describeFailure(err, this.timeoutMs);
        this.down = { until: Date.now() + this.downMs, reason };
        throw new TerminologyUnavailable(`the terminology server ${this.url} is unavailable (${reason})`, Math.ceil(this.downMs / 1000));
      }
      this.down = undefined;
      this.cache?.set(key, answer);
      return answer;
    })();
    this.inFlight.set(key, promise);
    try {
      return await promise;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private get(path: string, query: Array<[string, string]>): Promise<Reply> {
    return this.send('GET', `${path}?${new URLSearchParams(query).toString()}`);
  }

  private post(path: string, body: Record<string, unknown>): Promise<Reply> {
    return this.send('POST', path, JSON.stringify(body));
  }

  private async send(method: 'GET' | 'POST', path: string, body?: string): Promise<Reply> {
    const res = await request(`${this.url}/${path}`, {
      method,
      dispatcher: this.agent,
      signal: AbortSignal.timeout(this.timeoutMs),
      headers: { accept: 'application/fhir+json', ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.body.text();
    const type = String(res.headers['content-type'] ?? '');
    return { status: res.statusCode, json: /\bjson\b/i.test(type) ? parse(text) : undefined, type };
  }
}

interface Reply {
  status: number;
  /** The parsed body when it was JSON (undefined when it was not, or did not parse). */
  json: unknown;
  type: string;
}

/** An answer that is not what was asked for: the server is not behaving as a FHIR terminology server. */
class Malformed extends Error {}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A terminology server URL as given, checked (http or https, no credentials, no query) and without a trailing slash. */
export function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`The terminology server's URL must be an http or https URL, not '${url}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`The terminology server's URL must be an http or https URL, not '${url}'`);
  if (parsed.username || parsed.password) throw new Error("The terminology server's URL must not carry credentials");
  if (parsed.search || parsed.hash) throw new Error(`The terminology server's URL must be its FHIR base, without a query or fragment, not '${url}'`);
  return parsed.href.replace(/\/+$/, '');
}

function parameters(parameter: Array<Record<string, unknown>>): Record<string, unknown> {
  return { resourceType: 'Parameters', parameter };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Text from the remote server, fit to quote: no control characters, and not too long. */
export function clean(text: string): string {
  const plain = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return plain.length > MAX_MESSAGE ? `${plain.slice(0, MAX_MESSAGE)}…` : plain;
}

/** A 4xx with or without an OperationOutcome: the server will not answer this question. A 5xx, or anything else: a failure. */
function refusal(reply: Reply): { answered: false; message: string } {
  if (reply.status >= 400 && reply.status < 500 && ![401, 403, 407, 408, 429].includes(reply.status)) {
    const issues = isRecord(reply.json) && reply.json.resourceType === 'OperationOutcome' && Array.isArray(reply.json.issue) ? reply.json.issue : [];
    const said = issues
      .slice(0, 5)
      .map((i) => (isRecord(i) ? (typeof i.diagnostics === 'string' ? i.diagnostics : isRecord(i.details) && typeof i.details.text === 'string' ? i.details.text : undefined) : undefined))
      .filter((m): m is string => !!m);
    return { answered: false, message: clean(`HTTP ${reply.status}${said.length ? `: ${said.join('; ')}` : ''}`) };
  }
  throw new Malformed(`it answered HTTP ${reply.status}${reply.status === 401 || reply.status === 403 ? ' (it needs credentials this server does not send)' : ''}`);
}

function resourceOf(reply: Reply, type: string): Record<string, unknown> {
  if (reply.json === undefined) throw new Malformed(`its answer was not FHIR JSON (${reply.type ? clean(reply.type).slice(0, 60) : 'no content type'})`);
  if (!isRecord(reply.json) || reply.json.resourceType !== type) throw new Malformed(`its answer was not a ${type}`);
  return reply.json;
}

function paramsOf(resource: Record<string, unknown>): Array<Record<string, unknown>> {
  return Array.isArray(resource.parameter) ? resource.parameter.filter(isRecord) : [];
}

function readCheck(reply: Reply): CheckAnswer {
  if (reply.status !== 200) return refusal(reply);
  const params = paramsOf(resourceOf(reply, 'Parameters'));
  const result = params.find((p) => p.name === 'result')?.valueBoolean;
  if (typeof result !== 'boolean') throw new Malformed('its $validate-code answer had no result');
  const message = params.find((p) => p.name === 'message')?.valueString;
  const display = params.find((p) => p.name === 'display')?.valueString;
  return { answered: true, result, ...(typeof message === 'string' && message ? { message: clean(message) } : {}), ...(typeof display === 'string' && display ? { display: clean(display) } : {}) };
}

function readExpansion(reply: Reply): ExpandAnswer {
  if (reply.status !== 200) return refusal(reply);
  const expansion = resourceOf(reply, 'ValueSet').expansion;
  if (!isRecord(expansion)) throw new Malformed('its $expand answer had no expansion');
  const codes: Array<{ system: string; code: string }> = [];
  const seen = new Set<string>();
  // Iterative, with a depth bound: the nesting of `contains` is the remote server's to choose.
  const stack: Array<[unknown, number]> = [[expansion.contains, 0]];
  while (stack.length) {
    const [items, depth] = stack.pop()!;
    if (!Array.isArray(items) || depth > MAX_NESTING) continue;
    for (const item of items) {
      if (!isRecord(item)) continue;
      const { system, code } = item;
      if (typeof system === 'string' && typeof code === 'string' && code && code.length <= MAX_CODE && system.length <= 1024) {
        const key = `${system}|${code}`;
        if (!seen.has(key)) {
          seen.add(key);
          codes.push({ system, code });
        }
      }
      if (item.contains !== undefined) stack.push([item.contains, depth + 1]);
    }
  }
  const total = expansion.total;
  return { answered: true, codes, ...(typeof total === 'number' && Number.isSafeInteger(total) && total >= 0 ? { total } : {}) };
}

function readLookup(reply: Reply): LookupAnswer {
  if (reply.status !== 200) return refusal(reply);
  const params = paramsOf(resourceOf(reply, 'Parameters'));
  const display = params.find((p) => p.name === 'display')?.valueString;
  const parents: string[] = [];
  for (const p of params) {
    if (p.name !== 'property' || !Array.isArray(p.part)) continue;
    const parts = p.part.filter(isRecord);
    if (parts.find((x) => x.name === 'code')?.valueCode !== 'parent') continue;
    const value = parts.find((x) => x.name === 'value');
    const code = value?.valueCode ?? value?.valueString ?? (isRecord(value?.valueCoding) ? value.valueCoding.code : undefined);
    if (typeof code === 'string' && code && code.length <= MAX_CODE && parents.length < MAX_PARENTS && !parents.includes(code)) parents.push(code);
  }
  return { answered: true, ...(typeof display === 'string' && display ? { display: clean(display) } : {}), parents };
}

/** Why a call failed, in words. */
function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT' || e?.code === 'UND_ERR_CONNECT_TIMEOUT') return `no answer within ${timeoutMs} ms`;
  if (e?.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return 'its answer was larger than this server accepts';
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its host name did not resolve';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return 'the connection was closed';
  return clean(`${code ? `${code}: ` : ''}${e?.message ?? String(err)}`).slice(0, 200);
}
