import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from './prom-series.js';
import { fhirModel } from '../fhir/definitions/model.js';
import { FhirError, issue } from '../fhir/outcome.js';
import type { Target } from '../pipeline/route.js';

/** Which FHIR base a request went to; `other` for everything outside them (health, /auth, the explorer, /metrics). */
export type BaseName = 'open' | 'secure';

/** What a request to a FHIR base is counted under: never its URL or an id, so the series stay few. */
export interface RequestLabels {
  base: BaseName;
  /** The restful interaction's code (`read`, `search-type`, `transaction` …), the operation's name (`$everything`), or `unknown` when it was refused before routing. */
  interaction: string;
  /** A resource type of STU3, or `none`. */
  type: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** What the request is counted under, once a FHIR base has it (http/fhir-api.ts); a property of every request (app.ts decorates them), not a WeakMap entry: a WeakMap gives each request's object an identity hash to key it. */
    metricLabels: RequestLabels | null;
  }
}

/** Notes what a request to a FHIR base is counted under (http/fhir-api.ts, once it is routed or refused). */
export function labelRequest(request: FastifyRequest, labels: RequestLabels): void {
  request.metricLabels = labels;
}

/** Labels already made, by base, interaction and type as routed: made once each, since every request has some (looked up without building a key: a string made at every request). */
const made = new Map<BaseName, Map<string, Map<string, RequestLabels>>>();

/** The labels of a request to `base` routed to `target` (none when it was refused before routing). */
export function targetLabels(base: BaseName, target?: Target): RequestLabels {
  const interaction = !target ? 'unknown' : target.code === 'operation' && target.operation ? target.operation.name : target.code;
  const routedType = target?.fields.type ?? '';
  let byInteraction = made.get(base);
  if (!byInteraction) made.set(base, (byInteraction = new Map()));
  let byType = byInteraction.get(interaction);
  if (!byType) byInteraction.set(interaction, (byType = new Map()));
  let labels = byType.get(routedType);
  if (!labels) {
    // The router takes any capitalised word as a type (an unknown one is answered 404 later): only real ones become labels.
    labels = { base, interaction, type: routedType && fhirModel().isResourceType(routedType) ? routedType : 'none' };
    // An unknown type is not kept under its own key: the keys stay as few as the labels.
    if (labels.type === routedType || !routedType) byType.set(routedType, labels);
  }
  return labels;
}

/** Why a connection or request was turned away before it reached a route. */
export type Rejection = 'timeout' | 'malformed' | 'headers-too-large' | 'max-connections';

export interface MetricsOptions {
  /** The database (the store, as server.ts wires it): which, how its connections are used, and a way to time its statements. */
  database: {
    readonly kind: string;
    connections(): { total: number; idle: number; waiting: number };
    observeStatements(observer: ((seconds: number, inTransaction: boolean) => void) | undefined): void;
  };
  /** The audit trail, when it is on: this node's events not yet committed, and how far the searchable copy is behind the chains. */
  audit?: { queued(): number; lag(): Promise<{ events: number; oldest?: number }> };
  /** Serve /metrics to whoever presents this bearer token, instead of to this machine only. */
  token?: string;
  /** The paths the FHIR bases are mounted at, and which is which. */
  bases: Array<{ path: string; name: BaseName }>;
}

/** How long a scrape waits for the store to say how far the audit trail's copy is behind. */
const LAG_WAIT_MS = 1000;

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const STATEMENT_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The process's own metrics (CPU, memory, event-loop delay, GC, handles): one set per process, however many servers it runs. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 10 });
  }
  return processRegistry;
}

/**
 * The server's metrics in Prometheus's text format, at /metrics (docs/operations-guide.md,
 * "Metrics"): requests by base, interaction, resource type and status; their latency; the
 * database's connections and statement times; the audit trail's lag; load shedding and
 * refused connections; and the process's own (event-loop delay among them).
 */
export class Metrics {
  private readonly registry = new Registry();
  private readonly requests: SeriesCounter;
  private readonly duration: SeriesHistogram;
  private readonly shed: Counter<'reason'>;
  private readonly rejected: Counter<'reason'>;
  private readonly bases: Array<{ path: string; name: BaseName }>;

  constructor(private readonly options: MetricsOptions) {
    const registers = [this.registry];
    this.bases = options.bases;
    // Counted on every request: series made once each, counted without prom-client's lookup (prom-series.ts).
    this.requests = new SeriesCounter(
      'ccri_http_requests_total',
      'HTTP requests answered, by FHIR base (open, secure; other for everything else), interaction (for other: the route template), resource type and status',
      ['base', 'interaction', 'type', 'status'],
      this.registry,
    );
    this.duration = new SeriesHistogram('ccri_http_request_duration_seconds', 'Time from receiving a request to its answer being sent, by base and interaction', ['base', 'interaction'], SECONDS, this.registry);
    this.shed = new Counter({ name: 'ccri_http_shed_total', help: 'Requests refused with 503 by load shedding, by the measure that was over its limit', labelNames: ['reason'], registers });
    this.rejected = new Counter({
      name: 'ccri_http_rejected_total',
      help: 'Connections and requests turned away before any route: too slow (408), malformed (400), headers too large (431), over the connection cap (closed)',
      labelNames: ['reason'],
      registers,
    });

    const { database: store, audit } = options;
    const statements = new SeriesHistogram(
      'ccri_db_statement_duration_seconds',
      'Time of each call to the database (a statement; a bulk helper counts once), by store and by connection: read (reads outside transactions) or transaction',
      ['store', 'connection'],
      STATEMENT_SECONDS,
      this.registry,
    );
    const read = statements.labels({ store: store.kind, connection: 'read' });
    const written = statements.labels({ store: store.kind, connection: 'transaction' });
    store.observeStatements((seconds, inTransaction) => (inTransaction ? written : read).observe(seconds));
    const gauge = (name: string, help: string, value: () => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['store'],
        registers,
        collect() {
          this.set({ store: store.kind }, value());
        },
      });
    gauge('ccri_db_connections', 'Connections open for requests: PostgreSQL: the pool; SQLite: the reader and the writer', () => store.connections().total);
    gauge('ccri_db_connections_idle', 'Of those, how many are free', () => store.connections().idle);
    gauge('ccri_db_connections_waiting', 'Callers waiting for a connection: PostgreSQL: for a pooled client; SQLite: transactions waiting for the writer', () => store.connections().waiting);

    if (audit) {
      new Gauge({
        name: 'ccri_audit_queued_events',
        help: "This node's audit events not yet committed: waiting for the next group commit, or in the one under way",
        registers,
        collect() {
          this.set(audit.queued());
        },
      });
      // Both gauges are collected at once, from one look at the store per scrape.
      let looking: Promise<{ events: number; oldest?: number } | undefined> | undefined;
      const lag = () => {
        looking ??= audit
          .lag()
          // The database does not answer: no figure rather than a wrong one (/health/ready says why).
          .catch(() => undefined)
          .finally(() => (looking = undefined));
        // A scrape does not wait long for a busy database (every pooled connection taken): the look goes on, and the next scrape shares it.
        return Promise.race([looking, new Promise<undefined>((r) => setTimeout(() => r(undefined), LAG_WAIT_MS).unref())]);
      };
      new Gauge({
        name: 'ccri_audit_search_lag_events',
        help: 'Audit events committed to the chains (of every node) but not yet copied into the searchable AuditEvents',
        registers,
        async collect() {
          const now = await lag();
          this.set(now ? now.events : Number.NaN);
        },
      });
      new Gauge({
        name: 'ccri_audit_search_lag_seconds',
        help: 'How long ago the oldest audit event not yet searchable was recorded (0 when every event is)',
        registers,
        async collect() {
          const now = await lag();
          this.set(!now ? Number.NaN : now.oldest === undefined ? 0 : Math.max(0, (Date.now() - now.oldest) / 1000));
        },
      });
    }
  }

  /** Each series' counter and histogram, by its labels. */
  private readonly series = new Map<string, { count: { inc(): void }; time: { observe(seconds: number): void } }>();

  /** Counts a request once it is answered (the app's onResponse hook). */
  answered(request: FastifyRequest, reply: FastifyReply): void {
    const labels = request.metricLabels ?? this.outside(request);
    const status = reply.statusCode;
    const key = `${labels.base} ${labels.interaction} ${labels.type} ${status}`;
    let series = this.series.get(key);
    if (!series) {
      // Few: bases × interactions × types × statuses, none taken from a URL or an id.
      series = {
        count: this.requests.labels({ base: labels.base, interaction: labels.interaction, type: labels.type, status: String(status) }),
        time: this.duration.labels({ base: labels.base, interaction: labels.interaction }),
      };
      this.series.set(key, series);
    }
    series.count.inc();
    series.time.observe(reply.elapsedTime / 1000);
  }

  /** A request refused before a FHIR base's handler (rate limit, load shedding) is still its base's; anything else is `other`, under its route template. */
  private outside(request: FastifyRequest): { base: BaseName | 'other'; interaction: string; type: string } {
    const route = request.routeOptions.url;
    const base = route ? this.bases.find((b) => route === b.path || route.startsWith(`${b.path}/`)) : undefined;
    if (base) return { base: base.name, interaction: 'unknown', type: 'none' };
    return { base: 'other', interaction: route ?? 'unmatched', type: 'none' };
  }

  /** Counts a request refused by load shedding. */
  shedding(reason: string): void {
    this.shed.inc({ reason });
  }

  /** Counts a connection or request turned away before any route. */
  reject(reason: Rejection): void {
    this.rejected.inc({ reason });
  }

  /** Adds a gauge read when scraped (the load shedder's own sample of the event-loop delay). */
  gauge(name: string, help: string, value: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(value());
      },
    });
  }

  /** The exposition: the server's metrics and the process's. */
  async text(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  /** Stops timing the store's statements (the server is closing). */
  close(): void {
    this.options.database.observeStatements(undefined);
  }

  /**
   * The route /metrics. Without a token it answers only a connection from this machine that
   * no proxy forwarded (a proxy on the same machine would otherwise make every client look
   * local); with one, any caller that presents it as a bearer token, and no one else.
   */
  route(app: FastifyInstance): void {
    const expected = this.options.token ? digest(this.options.token) : undefined;
    app.get('/metrics', async (request, reply) => {
      if (expected) {
        const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
        if (!given || !timingSafeEqual(digest(given), expected)) {
          throw new FhirError(401, issue('login', 'The metrics need the bearer token the server was given (CCRI_METRICS_TOKEN)'), { 'WWW-Authenticate': 'Bearer realm="metrics"' });
        }
      } else if (!isLoopback(request.socket.remoteAddress ?? '') || forwarded(request)) {
        throw new FhirError(403, issue('forbidden', 'The metrics are served to this machine only; set CCRI_METRICS_TOKEN to let others read them with a bearer token'));
      }
      const { contentType, body } = await this.text();
      return reply.header('cache-control', 'no-store').type(contentType).send(body);
    });
  }
}

/** A fixed-length digest, so that tokens of any length compare in constant time. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Whether a proxy says it forwarded the request. */
function forwarded(request: FastifyRequest): boolean {
  return request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined || request.headers['x-real-ip'] !== undefined;
}

/** Whether an address is this machine's (IPv4 127/8, IPv6 ::1, and IPv4 mapped into IPv6). */
export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
