import { fhirModel, type ElementDef } from '../../fhir/definitions/model.js';
import type { CompileContext } from './compile.js';
import type { Discriminator, DiscriminatorType, Matcher, MatchEnv, PlanNode, SlicingPlan } from './plan-types.js';
import type { RawNode } from './tree.js';
import { deepEqual, isRecord, matchesPattern, show } from './values.js';

/**
 * Slice matching (https://hl7.org/fhir/STU3/profiling.html#discriminator): each
 * discriminator is a path (`system`, `code.coding.code`, `url`, `$this`,
 * `extension('http://…').value`, `resolve()`, `ofType(T)`) evaluated on the
 * instance item, and compared with what the slice says at the same path: its
 * fixed or pattern value (or, failing that, its required binding, or for
 * extensions the profile's URL) for `value` and `pattern`; its types for `type`;
 * its minimum/maximum for `exists`; conformance to its type profile for `profile`.
 */

type Step = { kind: 'this' } | { kind: 'child'; name: string } | { kind: 'ext'; url: string } | { kind: 'resolve' } | { kind: 'ofType'; type: string };

interface Found {
  value: unknown;
  type?: string;
}

export function compileSlicing(
  slicing: { discriminator?: Array<{ type?: string; path?: string }>; rules?: string; ordered?: boolean },
  slices: Array<{ raw: RawNode; node: PlanNode }>,
  entry: RawNode,
  base: ElementDef | undefined,
  cx: CompileContext,
): SlicingPlan {
  const isExtension = base?.types.includes('Extension') ?? entry.name.endsWith('xtension');
  let discriminators: Discriminator[] = (slicing.discriminator ?? [])
    .filter((d) => typeof d.path === 'string')
    .map((d) => ({ type: (d.type ?? 'value') as DiscriminatorType, path: d.path! }));
  // Extensions are always sliced by url (https://hl7.org/fhir/STU3/extensibility.html).
  if (!discriminators.length && isExtension) discriminators = [{ type: 'value', path: 'url' }];
  const rules = slicing.rules === 'closed' || slicing.rules === 'openAtEnd' ? slicing.rules : 'open';
  return {
    discriminators,
    rules,
    ordered: slicing.ordered === true,
    slices: slices.map(({ raw, node }) => {
      const parts = discriminators.map((d) => discriminatorMatcher(d, raw, cx));
      const matches: Matcher = (item, type, env) => {
        let strength: 0 | 1 | 2 = 2;
        for (const p of parts) {
          if (!p.matches(item, type, env)) return 0;
          if (p.weak) strength = 1;
        }
        return strength;
      };
      return { node, matches, describe: parts.map((p) => p.describe).join(' and ') || 'no discriminator' };
    }),
  };
}

interface Part {
  matches: (item: unknown, itemType: string, env: MatchEnv) => boolean;
  describe: string;
  /** Matches by a binding, or because the slice says nothing at the path. */
  weak?: true;
}

function discriminatorMatcher(d: Discriminator, slice: RawNode, cx: CompileContext): Part {
  const steps = parsePath(d.path);
  const target = steps ? targetOf(slice, steps) : undefined;
  // A discriminator the slice does not pin down (no fixed value, no type ...) does not tell slices apart.
  const never: Part = { matches: () => true, describe: `${d.type} at '${d.path}' (not constrained by the slice)`, weak: true };
  if (!steps) return never;
  const at = (item: unknown, type: string, env: MatchEnv) => valuesAt({ value: item, type }, steps, env);
  switch (d.type) {
    case 'value':
    case 'pattern': {
      const expected = expectedValue(target, slice, d.path);
      if (expected) {
        const cmp = d.type === 'pattern' || expected.pattern ? matchesPattern : deepEqual;
        return { matches: (i, t, env) => at(i, t, env).some((f) => cmp(f.value, expected.value)), describe: `${d.path} = ${show(expected.value)}` };
      }
      const vs = bindingOf(target);
      if (vs) return { matches: (i, t, env) => at(i, t, env).some((f) => env.member(vs, f.value, f.type ?? t)), describe: `${d.path} in ${vs}`, weak: true };
      return never;
    }
    case 'exists': {
      const min = typeof target?.el.min === 'number' ? target.el.min : 0;
      const must = min > 0 ? true : target?.el.max === '0' ? false : undefined;
      if (must === undefined) return never;
      return { matches: (i, t, env) => (at(i, t, env).length > 0) === must, describe: `${d.path} ${must ? 'exists' : 'is absent'}` };
    }
    case 'type': {
      const types = typesOf(target, steps, cx);
      if (!types.length) return never;
      return { matches: (i, t, env) => at(i, t, env).some((f) => f.type !== undefined && types.includes(f.type)), describe: `${d.path} is ${types.join(' or ')}` };
    }
    case 'profile': {
      const viaResolve = steps.some((s) => s.kind === 'resolve');
      const profiles = ((target?.el.type ?? []) as Array<{ code?: string; profile?: string; targetProfile?: string }>).map((t) => (viaResolve ? t.targetProfile : t.profile)).filter((p): p is string => !!p);
      if (!profiles.length) return never;
      return {
        matches: (i, t, env) => at(i, t, env).some((f) => f.value !== undefined && profiles.some((p) => env.conforms(f.value, f.type ?? t, p))),
        describe: `${d.path} conforms to ${profiles.join(' or ')}`,
      };
    }
  }
  return never;
}

/** Parses a discriminator path into steps, or undefined when it uses something not supported. */
export function parsePath(path: string): Step[] | undefined {
  const steps: Step[] = [];
  const parts = path.match(/(?:[^.(']|'[^']*'|\([^)]*\))+/g) ?? [];
  for (const part of parts) {
    let m: RegExpExecArray | null;
    if (part === '$this') steps.push({ kind: 'this' });
    else if (part === 'resolve()') steps.push({ kind: 'resolve' });
    else if ((m = /^extension\('([^']*)'\)$/.exec(part))) steps.push({ kind: 'ext', url: m[1]! });
    else if ((m = /^(?:ofType|as)\(([A-Za-z]+)\)$/.exec(part))) steps.push({ kind: 'ofType', type: m[1]! });
    else if (/^[A-Za-z][A-Za-z0-9]*(\[x\])?$/.test(part)) steps.push({ kind: 'child', name: part.replace('[x]', '') });
    else return undefined;
  }
  return steps;
}

/** The slice's element at a discriminator path. */
function targetOf(slice: RawNode, steps: Step[]): RawNode | undefined {
  let node: RawNode | undefined = slice;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (!node) return undefined;
    // `item.reference.resolve()`: the slice constrains the Reference (its target profiles), not the string.
    if (step.kind === 'child' && step.name === 'reference' && steps[i + 1]?.kind === 'resolve' && !node.children.has('reference')) continue;
    if (step.kind === 'child') node = childNamed(node, step.name);
    else if (step.kind === 'ext') {
      const ext = node.children.get('extension');
      node = ext?.slices.find((s) => extensionUrl(s) === step.url);
    }
  }
  return node;
}

function childNamed(node: RawNode, name: string): RawNode | undefined {
  const direct = node.children.get(name) ?? node.children.get(`${name}[x]`);
  if (direct) return direct;
  for (const [k, c] of node.children) if (k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length))) return c;
  return undefined;
}

/** The URL an extension slice stands for: its fixed url, or its type profile. */
export function extensionUrl(slice: RawNode): string | undefined {
  const url = slice.children.get('url')?.el;
  const fixed = url?.fixedUri ?? url?.fixedString;
  if (typeof fixed === 'string') return fixed;
  const type = (slice.el.type as Array<{ profile?: string }> | undefined)?.[0];
  return type?.profile;
}

function expectedValue(target: RawNode | undefined, slice: RawNode, path: string): { value: unknown; pattern: boolean } | undefined {
  if (target) {
    for (const [k, v] of Object.entries(target.el)) {
      if (k.startsWith('fixed') && v !== undefined) return { value: v, pattern: false };
      if (k.startsWith('pattern') && v !== undefined) return { value: v, pattern: true };
    }
  }
  if (path === 'url') {
    const url = extensionUrl(slice);
    if (url) return { value: url, pattern: false };
  }
  return undefined;
}

function bindingOf(target: RawNode | undefined): string | undefined {
  const b = target?.el.binding as { valueSetReference?: { reference?: string }; valueSetUri?: string } | undefined;
  return b?.valueSetReference?.reference ?? b?.valueSetUri;
}

function typesOf(target: RawNode | undefined, steps: Step[], cx: CompileContext): string[] {
  const refs = (target?.el.type ?? []) as Array<{ code?: string; profile?: string; targetProfile?: string }>;
  if (steps.some((s) => s.kind === 'resolve')) {
    return refs.map((t) => t.targetProfile).filter((p): p is string => !!p).map((p) => (cx.source.structureDefinition(p)?.type as string | undefined) ?? p.slice(p.lastIndexOf('/') + 1));
  }
  const ofType = steps.filter((s): s is { kind: 'ofType'; type: string } => s.kind === 'ofType').map((s) => s.type);
  if (ofType.length) return ofType;
  return refs.map((t) => t.code).filter((c): c is string => !!c);
}

/** The values at a path in an instance item, with their types when known. */
function valuesAt(start: Found, steps: Step[], env: MatchEnv): Found[] {
  let current: Found[] = [start];
  for (const step of steps) {
    const next: Found[] = [];
    for (const f of current) {
      const v = f.value;
      if (step.kind === 'this') next.push(f);
      else if (step.kind === 'ofType') {
        if (f.type === undefined || f.type === step.type) next.push({ value: v, type: step.type });
      } else if (step.kind === 'resolve') {
        const target = env.resolve(v);
        if (target.type) next.push({ value: target.resource, type: target.type });
      } else if (isRecord(v)) {
        if (step.kind === 'ext') {
          for (const e of asArray(v.extension)) if (isRecord(e) && e.url === step.url) next.push({ value: e, type: 'Extension' });
        } else if (step.name in v) {
          for (const x of asArray(v[step.name])) next.push({ value: x });
        } else {
          for (const k of Object.keys(v)) {
            if (k.startsWith(step.name) && /^[A-Z]/.test(k.slice(step.name.length))) {
              const type = typeOfSuffix(k.slice(step.name.length));
              for (const x of asArray(v[k])) next.push({ value: x, type });
            }
          }
        }
      }
    }
    current = next;
  }
  return current;
}

/** The type a choice suffix names: `String` -> string, `Quantity` -> Quantity. */
export function typeOfSuffix(suffix: string): string {
  const lower = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  return fhirModel().isPrimitive(lower) ? lower : suffix;
}

function asArray(v: unknown): unknown[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}
