import { badRequest } from '../fhir/outcome.js';
import type { Condition, SearchPlan, TokenValue } from '../search/plan.js';
import { descendants, lookup } from './code-systems.js';
import { serverTerminology } from './server.js';

/** The most codes a modifier may expand to before the search is refused as too costly. */
const MAX_CODES = 5_000;

/**
 * Token `:in`, `:not-in`, `:below` and `:above`: expanded, with the value sets and code
 * systems the server holds (the Care Connect ones and those of the STU3 package), into
 * plain token conditions. What cannot be enumerated here — SNOMED CT hierarchies, value
 * sets defined by SNOMED CT filters, unknown value sets — is a 400 saying so, never a
 * silently partial answer. https://hl7.org/fhir/STU3/search.html#token
 */
export function expandTerminology(plan: SearchPlan): SearchPlan {
  const where = plan.where.map(expandCondition);
  return where.some((c, i) => c !== plan.where[i]) ? { ...plan, where } : plan;
}

function expandCondition(c: Condition): Condition {
  switch (c.kind) {
    case 'token-set': {
      const values = c.values.flatMap((v) => codesFor(c, v));
      const negate = c.relation === 'not-in';
      // Nothing to be in: nothing matches :in, everything matches :not-in.
      if (!values.length) return negate ? { kind: 'id', values: [], not: true } : { kind: 'none' };
      return negate ? { kind: 'token', param: c.param, values, not: true } : { kind: 'token', param: c.param, values };
    }
    case 'chain':
      return { ...c, where: expandCondition(c.where) };
    case 'has':
      return { ...c, where: expandCondition(c.where) };
    case 'or':
      return { ...c, any: c.any.map(expandCondition) };
    case 'for-type':
      return { ...c, where: expandCondition(c.where) };
    default:
      return c;
  }
}

function codesFor(c: Extract<Condition, { kind: 'token-set' }>, v: { valueSet?: string; system?: string; code?: string }): TokenValue[] {
  const name = `${c.param}:${c.relation}`;
  const terminology = serverTerminology();
  if (v.valueSet !== undefined) {
    const exp = terminology.expansion(v.valueSet);
    if (!exp) throw badRequest(`${name}: the value set ${v.valueSet} is not known to this server`, name, 'not-supported');
    if (exp.open.size || exp.partial.size || exp.incomplete) {
      const systems = [...exp.open, ...exp.partial].join(', ');
      throw badRequest(`${name}: the value set ${v.valueSet} cannot be expanded here (it includes ${systems || 'parts this server does not hold'}, e.g. by a SNOMED CT filter)`, name, 'not-supported');
    }
    const out: TokenValue[] = [];
    for (const [system, codes] of exp.codes) for (const code of codes) out.push({ system, code });
    return limit(out, name);
  }
  const cs = terminology.codeSystem(v.system!);
  if (!cs || !cs.complete) throw badRequest(`${name}: the code system ${v.system} is not held by this server, so its hierarchy cannot be followed`, name, 'not-supported');
  if (!lookup(cs, v.code!)) throw badRequest(`${name}: ${v.code} is not a code of ${v.system}`, name, 'code-invalid');
  const codes = c.relation === 'below' ? descendants(cs, v.code!, true) : ancestors(cs, v.code!);
  return limit(codes.map((code) => ({ system: v.system!, code })), name);
}

/** The code and every concept it descends from. */
function ancestors(cs: Parameters<typeof descendants>[0], code: string): string[] {
  const out: string[] = [];
  for (const candidate of cs.concepts.keys()) if (descendants(cs, candidate, true).includes(code)) out.push(candidate);
  return out;
}

function limit(values: TokenValue[], name: string): TokenValue[] {
  if (values.length > MAX_CODES) throw badRequest(`${name} expands to ${values.length} codes, more than the ${MAX_CODES} this server accepts`, name, 'too-costly');
  return values;
}
