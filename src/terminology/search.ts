import { badRequest, FhirError, issue } from '../fhir/outcome.js';
import type { Condition, SearchPlan, TokenValue } from '../search/plan.js';
import { descendants, lookup } from './code-systems.js';
import { type RemoteTerminology, TerminologyUnavailable } from './remote.js';
import { serverTerminology } from './server.js';
import type { Expansion, RemotePart } from './terminology.js';

/** The most codes a modifier may expand to before the search is refused as too costly. */
export const MAX_CODES = 5_000;
/** The most concepts `:above` climbs through on a remote server ($lookup calls). */
const MAX_ANCESTORS = 500;

/**
 * Token `:in`, `:not-in`, `:below` and `:above`: expanded into plain token conditions, with
 * the value sets and code systems the server holds (the Care Connect ones and those of the
 * STU3 package), and, when a remote terminology server is configured (`remote`), with its
 * answers for the code systems and value sets this server cannot enumerate (SNOMED CT …):
 * `:in` / `:not-in` by `ValueSet/$expand`, `:below` by `$expand` of an `is-a` filter, `:above`
 * by `CodeSystem/$lookup` of each parent in turn. What cannot be enumerated is a 400 saying
 * so, and a terminology server that cannot be reached a 503: never a silently partial answer.
 * https://hl7.org/fhir/STU3/search.html#token
 */
export async function expandTerminology(plan: SearchPlan, remote?: RemoteTerminology): Promise<SearchPlan> {
  const where = await Promise.all(plan.where.map((c) => expandCondition(c, remote)));
  return where.some((c, i) => c !== plan.where[i]) ? { ...plan, where } : plan;
}

async function expandCondition(c: Condition, remote: RemoteTerminology | undefined): Promise<Condition> {
  switch (c.kind) {
    case 'token-set': {
      const values: TokenValue[] = [];
      for (const v of c.values) values.push(...(await codesFor(c, v, remote)));
      const negate = c.relation === 'not-in';
      // Nothing to be in: nothing matches :in, everything matches :not-in.
      if (!values.length) return negate ? { kind: 'id', values: [], not: true } : { kind: 'none' };
      limit(values, `${c.param}:${c.relation}`);
      return negate ? { kind: 'token', param: c.param, values, not: true } : { kind: 'token', param: c.param, values };
    }
    case 'chain':
      return { ...c, where: await expandCondition(c.where, remote) };
    case 'has':
      return { ...c, where: await expandCondition(c.where, remote) };
    case 'or':
      return { ...c, any: await Promise.all(c.any.map((x) => expandCondition(x, remote))) };
    case 'for-type':
      return { ...c, where: await expandCondition(c.where, remote) };
    default:
      return c;
  }
}

async function codesFor(c: Extract<Condition, { kind: 'token-set' }>, v: { valueSet?: string; system?: string; code?: string }, remote: RemoteTerminology | undefined): Promise<TokenValue[]> {
  const name = `${c.param}:${c.relation}`;
  const terminology = serverTerminology();
  if (v.valueSet !== undefined) {
    const exp = terminology.expansion(v.valueSet);
    if (!exp) {
      if (remote) return fromRemote(name, remote, `the value set ${v.valueSet}`, v.valueSet, MAX_CODES);
      throw badRequest(`${name}: the value set ${v.valueSet} is not known to this server`, name, 'not-supported');
    }
    const out: TokenValue[] = [];
    for (const [system, codes] of exp.codes) for (const code of codes) out.push({ system, code });
    if (exp.open.size || exp.partial.size || exp.incomplete) {
      const parts = remote ? askable(exp, remote) : undefined;
      if (!parts) {
        const systems = [...exp.open, ...exp.partial].join(', ');
        throw badRequest(`${name}: the value set ${v.valueSet} cannot be expanded here (it includes ${systems || 'parts this server does not hold'}, e.g. by a SNOMED CT filter)${remote ? `, and not every part of it is one the terminology server ${remote.url} is asked about` : ''}`, name, 'not-supported');
      }
      for (const part of parts) {
        const target = 'valueSet' in part ? part.valueSet : { resourceType: 'ValueSet', status: 'active', compose: { include: [part.include] } };
        const what = 'valueSet' in part ? `the value set ${part.valueSet} (included by ${v.valueSet})` : `the part of ${v.valueSet} in ${part.system}`;
        out.push(...(await fromRemote(name, remote!, what, target, MAX_CODES - out.length)));
      }
    }
    return limit(out, name);
  }
  const system = v.system!;
  const code = v.code!;
  const cs = terminology.codeSystem(system);
  if (!cs || !cs.complete) {
    if (remote?.asks(system)) return c.relation === 'below' ? below(name, remote, system, code) : above(name, remote, system, code);
    throw badRequest(`${name}: the code system ${system} is not held by this server, so its hierarchy cannot be followed${remote ? ` (nor is it one the terminology server ${remote.url} is asked about)` : ''}`, name, 'not-supported');
  }
  if (!lookup(cs, code)) throw badRequest(`${name}: ${code} is not a code of ${system}`, name, 'code-invalid');
  const codes = c.relation === 'below' ? descendants(cs, code, true) : ancestors(cs, code);
  return limit(codes.map((x) => ({ system, code: x })), name);
}

/** The parts of an expansion a remote server is to list, or undefined when some part is not one it is asked about. */
function askable(exp: Expansion, remote: RemoteTerminology): RemotePart[] | undefined {
  const parts = exp.remote;
  // Everything not enumerated here must be covered by a remote part (an include without a system is not).
  const covered = new Set(parts.flatMap((p) => ('system' in p ? [p.system] : [])));
  for (const s of [...exp.open, ...exp.partial]) if (!covered.has(s)) return undefined;
  if (exp.incomplete && !parts.some((p) => 'valueSet' in p)) return undefined;
  return parts.every((p) => 'valueSet' in p || remote.asks(p.system)) ? parts : undefined;
}

/** The code and every concept below it, by `$expand` of an is-a filter on the remote server. */
async function below(name: string, remote: RemoteTerminology, system: string, code: string): Promise<TokenValue[]> {
  const vs = { resourceType: 'ValueSet', status: 'active', compose: { include: [{ system, filter: [{ property: 'concept', op: 'is-a', value: code }] }] } };
  return fromRemote(name, remote, `the concepts below ${system}|${code}`, vs, MAX_CODES);
}

/** The code and every concept above it, climbing the `parent` properties of `$lookup` on the remote server. */
async function above(name: string, remote: RemoteTerminology, system: string, code: string): Promise<TokenValue[]> {
  const seen = new Set<string>([code]);
  let wave = [code];
  while (wave.length) {
    const answers = await Promise.all(wave.map((c) => guarded(name, remote, () => remote.lookup(system, c))));
    const next: string[] = [];
    answers.forEach((a, i) => {
      if (!a.answered) {
        if (wave[i] === code) throw badRequest(`${name}: the terminology server ${remote.url} could not look up ${system}|${code}: ${a.message}`, name, 'code-invalid');
        return;
      }
      for (const p of a.parents) {
        if (seen.has(p)) continue;
        seen.add(p);
        next.push(p);
      }
    });
    if (seen.size > MAX_ANCESTORS) throw new FhirError(400, issue('too-costly', `${name}: ${system}|${code} has more than ${MAX_ANCESTORS} concepts above it`, name));
    wave = next;
  }
  return [...seen].map((x) => ({ system, code: x }));
}

/** The codes of a value set (by URL, or given) as the remote server lists them: at most `room`, or a 400 too-costly. */
async function fromRemote(name: string, remote: RemoteTerminology, what: string, valueSet: string | Record<string, unknown>, room: number): Promise<TokenValue[]> {
  const answer = await guarded(name, remote, () => remote.expand(valueSet, room + 1));
  if (!answer.answered) throw badRequest(`${name}: the terminology server ${remote.url} could not expand ${what}: ${answer.message}`, name, 'not-supported');
  if (answer.codes.length > room || (answer.total !== undefined && answer.total > room)) {
    throw new FhirError(400, issue('too-costly', `${name} expands to more than the ${MAX_CODES} codes this server accepts (${what}${answer.total !== undefined ? ` has ${answer.total}` : ''})`, name));
  }
  if (answer.total !== undefined && answer.total > answer.codes.length) {
    throw new FhirError(400, issue('too-costly', `${name}: the terminology server ${remote.url} listed ${answer.codes.length} of the ${answer.total} codes of ${what}, so the search cannot be answered exactly`, name));
  }
  return answer.codes;
}

/** A remote call; an unavailable server is a 503 saying so (never a 500, never a partial answer). */
async function guarded<T>(name: string, remote: RemoteTerminology, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof TerminologyUnavailable) {
      throw new FhirError(503, issue('transient', `${name} needs the terminology server, and ${err.message}: the search cannot be answered now`, name), { 'Retry-After': String(Math.max(1, err.retryAfter)) });
    }
    throw err;
  }
}

/** The code and every concept it descends from. */
function ancestors(cs: Parameters<typeof descendants>[0], code: string): string[] {
  const out: string[] = [];
  for (const candidate of cs.concepts.keys()) if (descendants(cs, candidate, true).includes(code)) out.push(candidate);
  return out;
}

function limit(values: TokenValue[], name: string): TokenValue[] {
  if (values.length > MAX_CODES) throw new FhirError(400, issue('too-costly', `${name} expands to ${values.length} codes, more than the ${MAX_CODES} this server accepts`, name));
  return values;
}
