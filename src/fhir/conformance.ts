/**
 * Where the validator finds conformance resources by canonical URL: the STU3 base
 * definitions from the package, the project's own Care Connect resources
 * (src/profiles), and anything a caller adds (e.g. the profiles of a test case).
 *
 * The shapes are plain FHIR JSON (StructureDefinition, ValueSet, CodeSystem) so that
 * any source can feed the validator.
 */
export type StructureDefinition = Record<string, unknown> & { resourceType: 'StructureDefinition'; url: string };
export type ValueSet = Record<string, unknown> & { resourceType: 'ValueSet'; url: string };
export type CodeSystem = Record<string, unknown> & { resourceType: 'CodeSystem'; url: string };

export interface ConformanceSource {
  structureDefinition(url: string): StructureDefinition | undefined;
  valueSet(url: string): ValueSet | undefined;
  codeSystem(url: string): CodeSystem | undefined;
}

/** A source over in-memory lists; later sources are consulted first by `layered`. */
export class ConformanceIndex implements ConformanceSource {
  private readonly sds = new Map<string, StructureDefinition>();
  private readonly vss = new Map<string, ValueSet>();
  private readonly css = new Map<string, CodeSystem>();

  add(resource: Record<string, unknown>): this {
    const url = resource.url;
    if (typeof url !== 'string') return this;
    const bare = url.split('|')[0]!;
    if (resource.resourceType === 'StructureDefinition') this.sds.set(bare, resource as StructureDefinition);
    else if (resource.resourceType === 'ValueSet') this.vss.set(bare, resource as ValueSet);
    else if (resource.resourceType === 'CodeSystem') this.css.set(bare, resource as CodeSystem);
    return this;
  }

  structureDefinition(url: string): StructureDefinition | undefined {
    return this.sds.get(url.split('|')[0]!);
  }
  valueSet(url: string): ValueSet | undefined {
    return this.vss.get(url.split('|')[0]!);
  }
  codeSystem(url: string): CodeSystem | undefined {
    return this.css.get(url.split('|')[0]!);
  }
  structureDefinitions(): StructureDefinition[] {
    return [...this.sds.values()];
  }
  valueSets(): ValueSet[] {
    return [...this.vss.values()];
  }
  codeSystems(): CodeSystem[] {
    return [...this.css.values()];
  }
}

/** Consults each source in turn (the first that knows a URL answers). */
export function layered(...sources: ConformanceSource[]): ConformanceSource {
  return {
    structureDefinition: (url) => first(sources, (s) => s.structureDefinition(url)),
    valueSet: (url) => first(sources, (s) => s.valueSet(url)),
    codeSystem: (url) => first(sources, (s) => s.codeSystem(url)),
  };
}

function first<T>(sources: ConformanceSource[], f: (s: ConformanceSource) => T | undefined): T | undefined {
  for (const s of sources) {
    const v = f(s);
    if (v !== undefined) return v;
  }
  return undefined;
}
