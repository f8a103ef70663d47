import { quote } from '../context.js';
import { checkBinding } from './codes.js';
import { evaluate } from './invariants.js';
import type { MatchEnv, PlanNode, ProfilePlan } from './plan-types.js';
import type { Scope, Session } from './session.js';
import { checkSlicing } from './slicing.js';
import { deepEqual, isRecord, matchesPattern, show } from './values.js';

/**
 * Validates a value against a compiled profile by following the plan's tree:
 * for each element the profile constrains, the instance's values at that element
 * are collected and checked (cardinality, types, fixed and pattern values,
 * bindings, reference targets, invariants, type profiles, slicing), then their
 * children. Elements the profile does not constrain are never visited.
 * https://hl7.org/fhir/STU3/profiling.html
 */

/** One value of an element in the instance. */
export interface Item {
  value: unknown;
  /** A primitive's `_name` object (its id and extensions). */
  ext?: Record<string, unknown>;
  type: string;
  location: string;
}

export interface WalkState {
  s: Session;
  plan: ProfilePlan;
  scope: Scope;
  env: MatchEnv;
}

export function validateAgainst(s: Session, plan: ProfilePlan, value: unknown, type: string, location: string, scope: Scope): void {
  const env: MatchEnv = {
    conforms: (v, t, url) => conforms(s, url, v, t, scope),
    member: (vs, v, t) => {
      const exp = s.engine.terminology.expansion(vs);
      if (!exp) return false;
      const codes = codesFor(v, t);
      return codes.some(([system, code]) => s.engine.terminology.contains(exp, system, code) !== 'no');
    },
    resolve: (ref) => s.resolve(ref, scope.container),
  };
  const st: WalkState = { s, plan, scope, env };
  checkItem(st, { value, type, location }, plan.root);
}

/** Whether a value conforms to a profile (no errors), for profile discriminators. */
function conforms(s: Session, url: string, value: unknown, type: string, scope: Scope): boolean {
  const plan = s.engine.plan(url);
  if (!plan) return false;
  const probe = Object.create(s) as Session;
  const issues: typeof s.issues = [];
  Object.defineProperty(probe, 'issues', { value: issues });
  probe.report = (severity, code, location, message) => void issues.push({ severity, code, diagnostics: message, expression: [location] });
  validateAgainst(probe, plan, value, type, scope.location, scope);
  return !issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}

function codesFor(value: unknown, type: string): Array<[string | undefined, string]> {
  if (typeof value === 'string') return [[undefined, value]];
  if (!isRecord(value)) return [];
  if (type === 'CodeableConcept') {
    return (Array.isArray(value.coding) ? value.coding : []).filter(isRecord).filter((c) => typeof c.code === 'string').map((c) => [c.system as string | undefined, c.code as string]);
  }
  return typeof value.code === 'string' ? [[value.system as string | undefined, value.code]] : [];
}

/** The values of a node's element in a parent object, in order. */
export function itemsOf(parent: Record<string, unknown>, node: PlanNode, parentLocation: string): Item[] {
  const out: Item[] = [];
  for (const form of node.keys) {
    const v = parent[form.key];
    const x = form.primitive ? parent[`_${form.key}`] : undefined;
    if (v === undefined && x === undefined) continue;
    const at = `${parentLocation}.${form.key}`;
    if (node.array) {
      const values = Array.isArray(v) ? v : [];
      const exts = Array.isArray(x) ? x : [];
      const n = Math.max(values.length, exts.length);
      for (let i = 0; i < n; i++) {
        const item: Item = { value: values[i] ?? undefined, type: form.type, location: `${at}[${i}]` };
        if (isRecord(exts[i])) item.ext = exts[i] as Record<string, unknown>;
        if (item.value === null) item.value = undefined;
        if (item.value !== undefined || item.ext) out.push(item);
      }
    } else {
      const item: Item = { value: v, type: form.type, location: at };
      if (isRecord(x)) item.ext = x;
      out.push(item);
    }
  }
  return out;
}

/** Checks the values of one element (the items) against a node: cardinality, slicing, then each item. */
export function checkElement(st: WalkState, items: Item[], node: PlanNode, location: string): void {
  const { s, plan } = st;
  const label = node.sliceName !== undefined ? `slice '${node.sliceName}' of ${location}` : location;
  if (node.min !== undefined && items.length < node.min) {
    s.report('error', 'required', location, `${label} needs at least ${node.min} value${node.min === 1 ? '' : 's'} but has ${items.length} (${plan.name}, ${node.id})`);
  }
  if (node.max !== undefined && node.max !== -1 && items.length > node.max) {
    const what = node.max === 0 ? 'is not allowed' : `allows at most ${node.max} value${node.max === 1 ? '' : 's'} but has ${items.length}`;
    s.report('error', 'structure', node.max === 0 ? (items[0]?.location ?? location) : location, `${label} ${what} (${plan.name}, ${node.id})`);
  }
  if (node.slicing) checkSlicing(st, items, node, location);
  for (const item of items) checkItem(st, item, node);
}

/** Checks one value against a node's own rules and its children. */
export function checkItem(st: WalkState, item: Item, node: PlanNode): void {
  const { s, plan, scope } = st;
  const at = item.location;
  if (node.types && !node.types.includes(item.type)) {
    s.report('error', 'structure', at, `type ${item.type} is not allowed here by ${plan.name} (${node.id} allows ${node.types.join(', ')})`);
    return;
  }
  const value = item.value;
  if (node.fixed && value !== undefined && !deepEqual(value, node.fixed.value)) {
    s.report('error', 'value', at, `the value must be ${show(node.fixed.value)} (${node.fixed.label} in ${plan.name}, ${node.id}) but is ${show(value)}`);
  }
  if (node.pattern && value !== undefined && !matchesPattern(value, node.pattern.value)) {
    s.report('error', 'value', at, `the value must match the pattern ${show(node.pattern.value)} (${node.pattern.label} in ${plan.name}, ${node.id}) but is ${show(value)}`);
  }
  if (node.maxLength !== undefined && typeof value === 'string' && value.length > node.maxLength) {
    s.report('error', 'too-long', at, `the value is ${value.length} characters long; ${plan.name} allows at most ${node.maxLength} (${node.id})`);
  }
  if (node.binding && value !== undefined) checkBinding(s, node.binding, value, item.type, at, `${plan.name} (${node.id})`);
  if (node.targets && isRecord(value)) {
    const type = s.referencedType(value, scope.container);
    if (type && !node.targets.types.has(type)) {
      s.report('error', 'structure', `${at}.reference`, `a reference to a ${type} is not allowed here: ${plan.name} (${node.id}) allows ${node.targets.labels.join(', ')}`);
    }
  }
  if (node.constraints && value !== undefined) {
    for (const c of node.constraints) {
      const outcome = evaluate(c, value, scope.container);
      if (outcome === 'fail') s.report(c.severity, 'invariant', at, `constraint ${c.key} of ${plan.name} failed: ${c.human} (${c.expression})`);
    }
  }
  const profiles = node.profiles?.get(item.type);
  if (profiles && value !== undefined) checkTypeProfiles(st, item, profiles);
  if (node.children.length) {
    const holder = isRecord(value) ? value : item.ext || value !== undefined ? { ...(item.ext ?? {}), value } : undefined;
    if (!holder) return;
    for (const child of node.children) checkElement(st, itemsOf(holder, child, at), child, `${at}.${child.name}`);
  }
}

/** A value must conform to the profile of its type (one of them, when several are listed). */
function checkTypeProfiles(st: WalkState, item: Item, profiles: string[]): void {
  const { s, scope } = st;
  const value = item.value;
  // An extension is checked against its own definition (by url) wherever it is met.
  if (item.type === 'Extension' && isRecord(value) && profiles.includes(value.url as string)) return;
  if (profiles.length === 1) {
    const plan = s.engine.plan(profiles[0]!);
    if (plan) validateAgainst(s, plan, value, item.type, item.location, scope);
    else s.report('warning', 'not-supported', item.location, `the profile ${profiles[0]} (required by ${st.plan.name}) is not known to this server, so the value was not checked against it`);
    return;
  }
  if (!profiles.some((p) => conforms(s, p, value, item.type, scope))) {
    s.report('error', 'structure', item.location, `the value conforms to none of the profiles ${profiles.map((p) => quote(p)).join(', ')} (${st.plan.name})`);
  }
}
