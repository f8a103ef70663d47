import { FhirError, issue } from '../fhir/outcome.js';
import type { Caller, FhirRequest, Incoming } from '../interactions/types.js';
import type { Policy } from '../pipeline/policy.js';
import type { Target } from '../pipeline/route.js';
import type { Access, Visibility } from '../search/access.js';
import type { SearchRegistry } from '../search/registry.js';
import type { TokenIssuer } from './issuer.js';
import { type Mode, parseScopes, reach, readAccess, type ScopeGrant } from './scopes.js';
import { type Holder, TokenRefused, verifier } from './verify.js';

/** A caller the secure base identified by a token, with the grants its scopes make. */
interface TokenCaller extends Caller {
  grants: readonly ScopeGrant[];
}

/** Longest `Authorization` header accepted: larger ones are refused before anything else is read. */
const MAX_HEADER = 8 * 1024;
/** Distinct (scope, patient) pairs whose grants are remembered. */
const GRANTED_SIZE = 1000;

export interface SecureBaseOptions {
  /** The public URL of the secure base: tokens must name it in `aud`. */
  url: string;
  issuer: TokenIssuer;
  registry: SearchRegistry;
  clock?: () => number;
}

/**
 * The secure base's policy (docs/security.md): every request but the CapabilityStatement
 * needs a bearer token, verified as verify.ts says; its scopes decide what it may do
 * (403 otherwise), and what it may see is narrowed inside the store's SQL.
 * http://hl7.org/fhir/smart-app-launch/1.0.0/
 */
export function securePolicy(options: SecureBaseOptions): Policy {
  const tokens = verifier(options.issuer, options.url, options.clock);
  const types = options.registry.types();
  const hasCompartment = (type: string) => type === 'Patient' || options.registry.compartmentParams(type).length > 0;
  const realm = options.url;
  /** What a scope (and launch patient) grants, worked out once per distinct pair: it is a function of them alone, and a client sends the same token again and again. */
  const granted = new Map<string, { grants: ScopeGrant[]; access: Access }>();
  const grantsOf = (scope: string, patient: string | undefined) => {
    const key = `${patient ?? ''} ${scope}`;
    let g = granted.get(key);
    if (!g) {
      const grants = parseScopes(scope);
      g = { grants, access: { ...readAccess(grants, patient, hasCompartment, types), write: writeVisibility(grants, hasCompartment, types) } };
      if (granted.size >= GRANTED_SIZE) granted.clear();
      granted.set(key, g);
    }
    return g;
  };
  const refuse = (why: string) =>
    new FhirError(401, issue('login', `The request needs a valid bearer token: ${why}`), { 'WWW-Authenticate': `Bearer realm="${realm}", error="invalid_token", error_description="${why.replace(/["\\]/g, '')}"` });

  return {
    async identify(incoming: Incoming): Promise<Caller> {
      if (incoming.query.some(([k]) => k === 'access_token')) throw refuse('tokens go in the Authorization header, never in the URL');
      const header = incoming.authorization;
      const base = { access: NOTHING, ...(incoming.address ? { address: incoming.address } : {}) };
      if (header === undefined) return { kind: 'anonymous', ...base };
      const bearer = bearerToken(header);
      if (bearer === 'too long') throw refuse('the Authorization header is too long');
      if (bearer === undefined) throw refuse('the Authorization header must be "Bearer" and a token');
      let token;
      try {
        token = await tokens.verify(bearer);
      } catch (err) {
        if (err instanceof TokenRefused) throw refuse(err.message);
        throw err;
      }
      const { grants, access } = grantsOf(token.scope, token.patient);
      const caller: TokenCaller = {
        kind: kindOf(grants, token.fhirUser),
        ...base,
        access,
        grants,
        ...(token.subject ? { subject: token.subject } : {}),
        ...(token.client ? { client: token.client } : {}),
        ...(token.patient ? { patient: token.patient } : {}),
        ...(token.fhirUser ? { fhirUser: token.fhirUser } : {}),
      };
      return caller;
    },

    rateKeyOf(authorization: string): string | undefined | Promise<string | undefined> {
      // The scheme only: what follows is checked by verifying it (a token seen before is found by its hash).
      if (authorization.length > MAX_HEADER || !/^bearer /i.test(authorization)) return undefined;
      let holder;
      try {
        holder = tokens.holderOf(authorization.slice(7).trim());
      } catch {
        return undefined;
      }
      return holder instanceof Promise ? holder.then(rateKey, () => undefined) : rateKey(holder);
    },

    authorise(caller: Caller, target: Target, req: FhirRequest): void {
      // The CapabilityStatement is public: it is how a client finds out where to get a token.
      if (target.code === 'capabilities') return;
      if (!('grants' in caller)) throw refuse('none was sent');
      const grants = (caller as TokenCaller).grants;
      const mode: Mode = target.writes ? 'write' : 'read';
      const need = (type: string) => {
        if (reach(grants, type, mode) === 'none') {
          const context = caller.kind === 'system' ? 'system' : caller.patient ? 'patient' : 'user';
          const scope = `${context}/${type}.${mode}`;
          throw new FhirError(403, issue('forbidden', `The token's scopes do not allow ${mode === 'read' ? 'reading' : 'writing'} ${type} resources (${scope} would)`), {
            'WWW-Authenticate': `Bearer realm="${realm}", error="insufficient_scope", scope="${scope}"`,
          });
        }
      };
      // Each entry of a batch or transaction is authorised on its own (pipeline/dispatch.ts).
      if (target.code === 'transaction') {
        if (!grants.length) throw refuseScope(realm)('read');
        return;
      }
      const type = target.fields.type;
      if (type && type !== '*') return need(type);
      // System level (and `Patient/{id}/*`): the types asked for with _type, or any the scopes allow; the store narrows the rest.
      const named = req.query.filter(([k]) => k === '_type').flatMap(([, v]) => v.split(',').map((t) => t.trim()).filter(Boolean));
      if (named.length) return named.forEach(need);
      needAny(grants, mode, refuseScope(realm));
    },
  };
}

/**
 * The rate limit's key for a token's holder: per user of a client, not per client alone, since
 * every person signed in to one app (the explorer, say) would otherwise share one allowance. A
 * backend service is its own subject.
 */
function rateKey(holder: Holder): string | undefined {
  if (!holder.client && !holder.subject) return undefined;
  let key = RATE_KEYS.get(holder);
  if (key === undefined) RATE_KEYS.set(holder, (key = JSON.stringify([holder.client ?? null, holder.subject === holder.client ? null : (holder.subject ?? null)])));
  return key;
}

/** Each remembered token's rate key, made once (the verifier gives the same Holder for as long as it remembers the token). */
const RATE_KEYS = new WeakMap<Holder, string>();

/** The token of an `Authorization: Bearer` header; undefined when the header is not one. */
function bearerToken(header: string): string | undefined | 'too long' {
  if (header.length > MAX_HEADER) return 'too long';
  return /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(header)?.[1];
}

/** Nothing: what a caller without a token sees (it is refused before it could read). */
const NOTHING: Access = { default: 'none', patients: [] };

/** How far the grants let their holder write each type (a 'compartment' grant on a type without one writes nothing). */
function writeVisibility(grants: readonly ScopeGrant[], hasCompartment: (type: string) => boolean, types: readonly string[]): NonNullable<Access['write']> {
  const byType: Record<string, Visibility> = {};
  for (const type of types) {
    const v = reach(grants, type, 'write');
    if (v === 'all' || (v === 'compartment' && hasCompartment(type))) byType[type] = v;
  }
  return { default: 'none', types: byType };
}

function kindOf(grants: readonly ScopeGrant[], fhirUser: string | undefined): Caller['kind'] {
  if (grants.length && grants.every((g) => g.context === 'system')) return 'system';
  if (fhirUser && /(^|\/)Patient\/[^/]+$/.test(fhirUser)) return 'patient';
  return 'user';
}

function needAny(grants: readonly ScopeGrant[], mode: Mode, fail: (mode: Mode) => FhirError): void {
  if (!grants.some((g) => g.modes.has(mode))) throw fail(mode);
}

function refuseScope(realm: string): (mode: Mode) => FhirError {
  return (mode) =>
    new FhirError(403, issue('forbidden', `The token's scopes allow ${mode === 'read' ? 'reading' : 'writing'} no resources`), {
      'WWW-Authenticate': `Bearer realm="${realm}", error="insufficient_scope"`,
    });
}
