import { fhirModel, type FhirModel } from '../../fhir/definitions/model.js';
import type { ConformanceSource, StructureDefinition, ValueSet } from '../../fhir/conformance.js';
import { compilePlan, profileTree, type CompileContext } from './compile.js';
import type { ProfilePlan } from './plan-types.js';
import { Terminology } from '../../terminology/terminology.js';
import type { RawNode } from './tree.js';

/**
 * Everything the validator derives from one conformance source, derived once
 * and kept: compiled profile plans by URL, element trees (for differentials
 * built on other profiles), value set expansions and indexed code systems.
 * One engine per source object (a WeakMap), so a server that keeps its source
 * compiles each profile once.
 */
export class Engine implements CompileContext {
  readonly terminology: Terminology;
  private readonly plans = new Map<string, ProfilePlan | null>();
  private readonly trees = new Map<string, RawNode | null>();
  /** Value sets contained in profiles, by the URL their bindings were rewritten to (`{profile url}#{id}`). */
  private readonly contained = new Map<string, ValueSet>();

  constructor(
    readonly source: ConformanceSource,
    readonly model: FhirModel,
  ) {
    this.terminology = new Terminology({
      structureDefinition: (url) => source.structureDefinition(url),
      valueSet: (url) => this.contained.get(url) ?? source.valueSet(url),
      codeSystem: (url) => source.codeSystem(url),
    });
  }

  containedValueSet(url: string, vs: ValueSet): void {
    this.contained.set(url, vs);
  }

  structureDefinition(url: string): StructureDefinition | undefined {
    return this.source.structureDefinition(url);
  }

  /** The compiled plan of a profile, or undefined when the source does not know it. */
  plan(url: string): ProfilePlan | undefined {
    const hit = this.plans.get(url);
    if (hit) return hit;
    const bare = url.split('|')[0]!;
    let plan = this.plans.get(bare);
    if (plan === undefined) {
      const sd = this.source.structureDefinition(bare);
      plan = sd && typeof sd.type === 'string' ? compilePlan(sd, this) : null;
      // Unknown URLs come from requests (meta.profile): remember only so many of them.
      if (plan || this.plans.size < NEGATIVE_LIMIT) this.plans.set(bare, plan);
    }
    return plan ?? undefined;
  }

  treeOf(url: string): RawNode | undefined {
    const bare = url.split('|')[0]!;
    let tree = this.trees.get(bare);
    if (tree === undefined) {
      this.trees.set(bare, null); // a cycle of base definitions ends here
      const sd = this.source.structureDefinition(bare);
      tree = sd && typeof sd.type === 'string' ? (profileTree(sd, this, []) ?? null) : null;
      if (tree || this.trees.size < NEGATIVE_LIMIT) this.trees.set(bare, tree);
      else this.trees.delete(bare);
    }
    return tree ?? undefined;
  }
}

/** How many unknown URLs a cache remembers (they come from requests, so they must not grow without bound). */
export const NEGATIVE_LIMIT = 10_000;

const engines = new WeakMap<ConformanceSource, WeakMap<FhirModel, Engine>>();

/** The engine of a source (created on first use). */
export function engineFor(source: ConformanceSource, model: FhirModel = fhirModel()): Engine {
  let byModel = engines.get(source);
  if (!byModel) {
    byModel = new WeakMap();
    engines.set(source, byModel);
  }
  let engine = byModel.get(model);
  if (!engine) {
    engine = new Engine(source, model);
    byModel.set(model, engine);
  }
  return engine;
}
