import { timeOrderedId } from '../fhir/ids.js';
import type { Command } from 'commander';
import { operatorEvent } from '../audit/recorder.js';
import type { Config } from '../config.js';
import type { StoreAdmin } from '../store/store.js';
import { createContext } from './context.js';
import { count } from './text.js';
import { configFrom, outputFile, requireStore, storeOptions } from './options.js';

/**
 * The audit trail's administration (docs/audit.md): check the chains (`verify`), note
 * where they end (`head`), ship the events (`export`), and remove old ones (`prune`).
 * Each works on the store directly, beside a running server.
 */
async function withStore<T>(opts: Record<string, unknown>, fn: (store: StoreAdmin, config: Config) => Promise<T>): Promise<T> {
  const config = configFrom(opts);
  requireStore(config);
  const { store } = await createContext(config);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

/** A head as `ccri audit head` prints it: `chain:n:hash`. */
interface NotedHead {
  chain: string;
  n: number;
  hash: string;
}

function parseHead(value: string): NotedHead {
  const m = /^(.+):(\d+):([0-9a-f]{64})$/.exec(value.trim());
  if (!m) throw new Error(`'${value}' is not a head as \`ccri audit head\` prints it (chain:position:sha256-hex)`);
  return { chain: m[1]!, n: Number(m[2]), hash: m[3]! };
}

/** A time given as an ISO date or date-time, as epoch ms. */
function parseTime(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value);
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${name} must be a date or date-time such as 2026-01-31 or 2026-01-31T12:00:00Z, not '${s}'`);
  return ms;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function auditCommand(program: Command): void {
  const audit = program.command('audit').description('check, ship and prune the audit trail (docs/audit.md)');

  storeOptions(
    audit
      .command('verify')
      .description('walk every audit chain, recomputing each hash; exit 1 naming the first event that was edited, removed, inserted or moved')
      .option('--head <head>', 'a head noted earlier by `ccri audit head` (chain:position:hash); also finds events removed from the end (repeat for several)', collect),
  ).action(async (opts: Record<string, unknown>) => {
    const noted = ((opts.head as string[] | undefined) ?? []).map(parseHead);
    const failed = await withStore(opts, async (store) => {
      const trail = store.audit();
      const problems = await trail.verify();
      for (const p of problems) console.log(`FAIL ${p.chain} at event ${p.n}: ${p.problem}`);
      const heads = await trail.heads();
      let bad = problems.length;
      for (const h of noted) {
        const now = heads.find((x) => x.chain === h.chain);
        if (!now) {
          console.log(`FAIL ${h.chain}: the noted head ${h.n} is gone: the chain itself was removed`);
          bad++;
        } else if (h.n < now.start) {
          console.log(`note ${h.chain}: the noted head ${h.n} was pruned (the chain now starts at ${now.start}); it cannot be checked`);
        } else if (h.n > now.n || !(await trail.holds(h.chain, h.n, h.hash))) {
          console.log(`FAIL ${h.chain} at event ${h.n}: the chain no longer holds the noted head (it ends at ${now.n}): events at the end were removed or rewritten`);
          bad++;
        }
      }
      if (!bad) {
        for (const h of heads) console.log(h.n < h.start ? `ok ${h.chain}: every event up to ${h.n} was pruned; nothing left to verify (head ${h.chain}:${h.n}:${h.hash})` : `ok ${h.chain}: events ${h.start} to ${h.n} verify (head ${h.chain}:${h.n}:${h.hash})`);
      }
      if (!heads.length && !bad) console.log('ok: the audit trail is empty');
      return bad > 0;
    });
    if (failed) process.exitCode = 1;
  });

  storeOptions(audit.command('head').description('print where each audit chain ends (chain:position:hash), to keep somewhere else and check later with `verify --head`')).action(
    async (opts: Record<string, unknown>) => {
      await withStore(opts, async (store) => {
        for (const h of await store.audit().heads()) console.log(`${h.chain}:${h.n}:${h.hash}`);
      });
    },
  );

  storeOptions(
    audit
      .command('export')
      .description('write the AuditEvents as NDJSON, oldest first (the export is itself recorded)')
      .option('--since <time>', 'only events recorded at or after this date or date-time')
      .option('--until <time>', 'only events recorded before this date or date-time')
      .option('--output <file>', 'the file to write ("-" for standard output)', '-'),
  ).action(async (opts: Record<string, unknown>) => {
    const since = parseTime('--since', opts.since);
    const until = parseTime('--until', opts.until);
    await withStore(opts, async (store, config) => {
      const toStdout = opts.output === '-' || opts.output === undefined;
      const out: NodeJS.WritableStream = toStdout ? process.stdout : await outputFile(String(opts.output));
      let n = 0;
      for await (const json of store.audit().events(since, until)) {
        if (!out.write(`${json}\n`)) await new Promise((resolve) => out.once('drain', resolve));
        n++;
      }
      if (!toStdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      const range = `${since !== undefined ? ` since ${new Date(since).toISOString()}` : ''}${until !== undefined ? ` until ${new Date(until).toISOString()}` : ''}`;
      await store.audit().append(
        operatorEvent(config.nodeName, { type: 'application', code: 'audit-export', display: 'audit trail exported', action: 'R', success: true, description: `ccri audit export: ${n} events${range}`, user: 'operator', requestId: timeOrderedId() }, Date.now(), {
          site: config.nodeName,
          base: config.baseUrl,
        }),
      );
      process.stderr.write(`Exported ${count(n, 'audit event')}.\n`);
    });
  });

  storeOptions(
    audit
      .command('prune')
      .description('remove the events recorded before a time; the prune is itself recorded, and the chains still verify')
      .requiredOption('--before <time>', 'remove events recorded before this date or date-time'),
  ).action(async (opts: Record<string, unknown>) => {
    const before = parseTime('--before', opts.before)!;
    if (before > Date.now()) throw new Error('--before is in the future: that would remove every event, including those of requests still being answered');
    await withStore(opts, async (store, config) => {
      const requestId = timeOrderedId();
      const source = { site: config.nodeName, base: config.baseUrl };
      const removed = await store
        .audit()
        .prune(before, operatorEvent(config.nodeName, { type: 'application', code: 'audit-prune', display: 'audit trail pruned', action: 'D', success: true, description: `ccri audit prune --before ${new Date(before).toISOString()}`, user: 'operator', requestId }, Date.now(), source));
      console.log(`Removed ${count(removed, 'audit event')} recorded before ${new Date(before).toISOString()}; the prune is recorded as an event.`);
    });
  });
}
