import { cached } from '../fhir/definitions/cache.js';
import { splitTopLevel } from '../fhir/fhirpath-text.js';
import { fhirModel } from '../fhir/definitions/model.js';
import { readPackageFile, readPackageResources } from '../fhir/definitions/package-files.js';

/**
 * The search parameters of every resource type, from the official SearchParameter
 * definitions, and the patient compartment from the official CompartmentDefinition.
 * https://hl7.org/fhir/STU3/searchparameter.html
 */

export type ParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri';

export interface ParamDef {
  code: string;
  type: ParamType;
  /** The FHIRPath expression for this resource type (union parts of other types removed). */
  expression?: string;
  /** Target resource types of a reference parameter. */
  targets?: string[];
  /** For a composite: the component parameters' codes and their expressions relative to each item. */
  components?: Array<{ code: string; type: ParamType; expression: string }>;
  url: string;
  description?: string;
}

export interface RegistryJson {
  /** type -> parameters. `_id` and `_lastUpdated` are included though answered from the resource table. */
  params: Record<string, ParamDef[]>;
  /** type -> the reference parameters that put a resource in a patient's compartment. */
  patientCompartment: Record<string, string[]>;
}

interface SearchParameterLike {
  url: string;
  code: string;
  base: string[];
  type: ParamType;
  expression?: string;
  target?: string[];
  description?: string;
  component?: Array<{ definition?: { reference?: string }; expression: string }>;
}

/** Splits `A.x | (B.y as T) | C.z` at top-level bars. */
export function splitUnion(expression: string): string[] {
  return splitTopLevel(expression, '|').filter(Boolean);
}

/** The root type name of one union part: `Patient.name` -> Patient, `(Observation.value as Quantity)` -> Observation. */
function rootOf(part: string): string {
  return /^\(*\s*([A-Za-z]+)/.exec(part)?.[1] ?? '';
}

export function deriveRegistry(sps: SearchParameterLike[], compartment: { resource: Array<{ code: string; param?: string[] }> }, resourceTypes: string[]): RegistryJson {
  const byUrl = new Map(sps.map((sp) => [sp.url, sp]));
  const params: Record<string, ParamDef[]> = {};
  for (const type of resourceTypes) params[type] = [];
  for (const sp of sps) {
    if (!sp.expression && sp.code !== '_text' && sp.code !== '_content') continue;
    for (const base of sp.base) {
      const generic = base === 'Resource' || base === 'DomainResource';
      const types = generic ? resourceTypes.filter((t) => base === 'Resource' || isDomainResource(t)) : [base];
      for (const type of types) {
        if (!params[type] || params[type]!.some((p) => p.code === sp.code)) continue;
        const def: ParamDef = { code: sp.code, type: sp.type, url: sp.url };
        const description = sp.description ? describeFor(sp.description, type) : undefined;
        if (description) def.description = description;
        if (sp.expression) {
          const parts = generic
            ? splitUnion(sp.expression).map((p) => p.replace(/^(\(*\s*)(Resource|DomainResource)\b/, `$1${type}`))
            : splitUnion(sp.expression).filter((p) => rootOf(p) === type);
          if (!parts.length) continue;
          def.expression = parts.join(' | ');
        }
        if (sp.target?.length) def.targets = [...sp.target];
        if (sp.type === 'composite' && sp.component) {
          def.components = sp.component.map((c) => {
            const target = byUrl.get(c.definition?.reference ?? '');
            return { code: target?.code ?? '', type: target?.type ?? 'token', expression: c.expression };
          });
        }
        params[type]!.push(def);
      }
    }
  }
  for (const list of Object.values(params)) list.sort((a, b) => a.code.localeCompare(b.code));
  const patientCompartment: Record<string, string[]> = {};
  for (const r of compartment.resource) if (r.param?.length) patientCompartment[r.code] = r.param.filter((p) => p !== '{def}');
  return { params, patientCompartment };
}

/**
 * What a parameter's definition says of it for one resource type, as one sentence without its
 * closing full stop. A parameter shared by several types (`code`, `patient`, `date` …) is
 * described in STU3 as "Multiple Resources:" and then a line `* [Type](type.html): text` per
 * type: the line of `type` is taken, not the heading.
 */
export function describeFor(description: string, type: string): string | undefined {
  const lines = description.split(/\r?\n/).map((l) => l.trim());
  const text = /^Multiple Resources:/i.test(lines[0] ?? '')
    ? lines.map((l) => /^\*\s*\[([A-Za-z]+)\]\([^)]*\):\s*(.*)$/.exec(l)).find((m) => m?.[1] === type)?.[2]
    : lines[0];
  const plain = text?.replace(/\s+/g, ' ').replace(/[.\s]+$/, '').trim();
  return plain ? plain.slice(0, 200) : undefined;
}

function isDomainResource(type: string): boolean {
  return !['Bundle', 'Binary', 'Parameters'].includes(type);
}

export class SearchRegistry {
  private readonly byType = new Map<string, Map<string, ParamDef>>();

  constructor(readonly json: RegistryJson) {
    for (const [type, list] of Object.entries(json.params)) this.byType.set(type, new Map(list.map((p) => [p.code, p])));
  }

  param(type: string, code: string): ParamDef | undefined {
    return this.byType.get(type)?.get(code);
  }

  params(type: string): ParamDef[] {
    return this.json.params[type] ?? [];
  }

  types(): string[] {
    return Object.keys(this.json.params);
  }

  compartmentParams(type: string): string[] {
    return this.json.patientCompartment[type] ?? [];
  }

  private readonly keyCache = new Map<string, string[]>();

  /**
   * The index keys a parameter's rows are stored under: one per union part of its
   * expression (see indexKeys). Empty for `_id`, `_lastUpdated`, `_text`, `_content`
   * and unknown parameters, which have no index rows.
   */
  keys(type: string, code: string): string[] {
    const k = `${type}\u0000${code}`;
    let keys = this.keyCache.get(k);
    if (!keys) {
      const def = this.param(type, code);
      keys = def && code !== '_id' && code !== '_lastUpdated' ? indexKeys(def) : [];
      this.keyCache.set(k, keys);
    }
    return keys;
  }

  /** Every (type, index key) that can have index rows, for the store to register. */
  indexedPairs(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const [type, list] of Object.entries(this.json.params)) {
      for (const key of new Set(list.flatMap((p) => this.keys(type, p.code)))) out.push([type, key]);
    }
    return out;
  }
}

/**
 * Index rows are stored per union part of a parameter's expression, not per parameter,
 * so parameters that share a path share its rows: Observation's `patient` and `subject`
 * are both `Observation.subject`, and `combo-code` is `code` and `component-code`
 * together. The key names the table's kind and the part (a composite adds its two
 * components), so two parameters share rows exactly when their extraction would be
 * the same. The parameter's rows are those of all its keys (docs/storage.md).
 */
export function indexKeys(def: ParamDef): string[] {
  return def.expression ? [...new Set(splitUnion(def.expression).map((part) => indexKey(def, part)))] : [];
}

/** The index key of one union part of a parameter's expression. */
export function indexKey(def: ParamDef, part: string): string {
  if (def.type !== 'composite') return `${def.type} ${part}`;
  return `composite ${part} ; ${(def.components ?? []).map((c) => `${c.type} ${c.expression}`).join(' ; ')}`;
}

let registry: SearchRegistry | undefined;

export function searchRegistry(): SearchRegistry {
  registry ??= new SearchRegistry(
    cached('search-registry', () =>
      deriveRegistry(
        readPackageResources<SearchParameterLike>('SearchParameter'),
        readPackageFile('CompartmentDefinition-patient.json'),
        [...fhirModel().resourceTypes].sort(),
      ),
    ),
  );
  return registry;
}
