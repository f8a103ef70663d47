import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cached } from './cache.js';
import { definitionsPackageDir } from './package-files.js';
import type { CodeSystem, ConformanceSource, StructureDefinition, ValueSet } from '../conformance.js';

/**
 * The STU3 conformance resources of the official package `hl7.fhir.r3.examples`
 * (585 StructureDefinitions, 1,154 ValueSets, 941 CodeSystems, about 50 MB of JSON)
 * as a {@link ConformanceSource}. Reading them all takes about a second, so only an
 * index of canonical URL -> file is read at start-up (built once, then kept in the
 * definitions cache); each resource is read from the package the first time it is
 * asked for. https://hl7.org/fhir/STU3/downloads.html
 */

type Kind = 'StructureDefinition' | 'ValueSet' | 'CodeSystem';
type UrlIndex = Record<Kind, Record<string, string>>;

const KINDS: Kind[] = ['StructureDefinition', 'ValueSet', 'CodeSystem'];

function buildIndex(dir: string): UrlIndex {
  const index: UrlIndex = { StructureDefinition: {}, ValueSet: {}, CodeSystem: {} };
  for (const file of readdirSync(dir).sort()) {
    const kind = KINDS.find((k) => file.startsWith(`${k}-`) && file.endsWith('.json'));
    if (!kind) continue;
    const res = readJson(join(dir, file));
    const url = res?.url;
    if (typeof url === 'string' && !(url in index[kind])) index[kind][url] = file;
  }
  return index;
}

/** A JSON file (a byte order mark allowed), or null when it cannot be read. */
function readJson(path: string): Record<string, unknown> | null {
  try {
    let text = readFileSync(path, 'utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** A lazily loading source over the definitions package. */
export class PackageSource implements ConformanceSource {
  private readonly loaded = new Map<string, Record<string, unknown> | null>();
  private index: UrlIndex | undefined;

  constructor(private readonly dir: string = definitionsPackageDir()) {}

  /** The URL index (read from the cache, or built on first use). */
  urls(): UrlIndex {
    this.index ??= cached('conformance-urls', () => buildIndex(this.dir));
    return this.index;
  }

  private get<T>(kind: Kind, url: string): T | undefined {
    const bare = url.split('|')[0]!;
    const files = this.urls()[kind];
    // Own properties only: a URL such as "constructor" must not find Object.prototype's.
    const file = Object.prototype.hasOwnProperty.call(files, bare) ? files[bare] : undefined;
    if (!file) return undefined;
    let res = this.loaded.get(file);
    if (res === undefined) {
      res = readJson(join(this.dir, file));
      this.loaded.set(file, res);
    }
    return (res ?? undefined) as T | undefined;
  }

  structureDefinition(url: string): StructureDefinition | undefined {
    return this.get<StructureDefinition>('StructureDefinition', url);
  }
  valueSet(url: string): ValueSet | undefined {
    return this.get<ValueSet>('ValueSet', url);
  }
  codeSystem(url: string): CodeSystem | undefined {
    return this.get<CodeSystem>('CodeSystem', url);
  }
}

let shared: PackageSource | undefined;

/** The shared source over the official STU3 package (one per process). */
export function packageSource(): PackageSource {
  shared ??= new PackageSource();
  return shared;
}
