import type { Access, Visibility } from '../search/access.js';

/**
 * SMART on FHIR scopes (App Launch 1.0 and Backend Services): what a token's `scope`
 * claim grants, decided without I/O. http://hl7.org/fhir/smart-app-launch/1.0.0/scopes-and-launch-context/
 *
 * `(patient|user|system)/(Type|*).(read|write|*)`; everything else (`launch`,
 * `launch/patient`, `openid`, `fhirUser`, `profile`, `offline_access`, `online_access`)
 * grants no access to data.
 */

export type Context = 'patient' | 'user' | 'system';
export type Mode = 'read' | 'write';

export interface ScopeGrant {
  context: Context;
  /** A resource type, or '*'. */
  type: string;
  modes: ReadonlySet<Mode>;
}

const PATTERN = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.(read|write|\*)$/;

/** The resource scopes among `scope` (a space-separated string); other scopes are left out. */
export function parseScopes(scope: string): ScopeGrant[] {
  const out: ScopeGrant[] = [];
  for (const s of scope.split(' ')) {
    const m = PATTERN.exec(s);
    if (!m) continue;
    const modes: Mode[] = m[3] === '*' ? ['read', 'write'] : [m[3] as Mode];
    out.push({ context: m[1] as Context, type: m[2]!, modes: new Set(modes) });
  }
  return out;
}

/** How far a grant lets its holder see: `patient/` scopes the patient's compartment, the others all. */
const REACH: Record<Context, Exclude<Visibility, 'none'>> = { patient: 'compartment', user: 'all', system: 'all' };

const wider = (a: Visibility, b: Visibility): Visibility => (a === 'all' || b === 'all' ? 'all' : a === 'compartment' || b === 'compartment' ? 'compartment' : 'none');

/** Types a wildcard scope does not cover: the audit trail needs `…/AuditEvent.read` by name (docs/audit.md). */
const NAMED_ONLY: ReadonlySet<string> = new Set(['AuditEvent']);

/** How far the grants let their holder do `mode` on `type` (the widest grant wins). */
export function reach(grants: readonly ScopeGrant[], type: string, mode: Mode): Visibility {
  let v: Visibility = 'none';
  for (const g of grants) if ((g.type === type || (g.type === '*' && !NAMED_ONLY.has(type))) && g.modes.has(mode)) v = wider(v, REACH[g.context]);
  return v;
}

/**
 * What the grants let their holder read, as the store narrows by it. A 'compartment'
 * grant on a type that has no Patient compartment (Organization, Practitioner, Location,
 * Medication, the definitions) reads all of it, as SMART intends; without a patient, a
 * 'compartment' grant reads nothing.
 */
export function readAccess(grants: readonly ScopeGrant[], patient: string | undefined, hasCompartment: (type: string) => boolean, types: readonly string[]): Access {
  const byType: Record<string, Visibility> = {};
  for (const type of types) {
    let v = reach(grants, type, 'read');
    if (v === 'compartment' && !hasCompartment(type)) v = 'all';
    if (v !== 'none') byType[type] = v;
  }
  return { default: 'none', types: byType, patients: patient ? [patient] : [] };
}

/**
 * The scopes to advertise: the launch and identity scopes, and `context/*.mode` for every
 * context and mode (the same with a resource type in place of `*` is understood too).
 */
export function smartScopes(): string[] {
  const out = ['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'offline_access', 'online_access'];
  for (const context of ['patient', 'user', 'system']) for (const mode of ['read', 'write', '*']) out.push(`${context}/*.${mode}`);
  return out;
}
