import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml } from '../../src/fhir/xml.js';

/** The official Care Connect STU3 release (XML with snapshots), parsed into FHIR JSON. Tests only. */

export type Json = Record<string, any>;

export interface OfficialRelease {
  structureDefinitions: Map<string, Json>;
  valueSets: Map<string, Json>;
  codeSystems: Map<string, Json>;
}

let loaded: OfficialRelease | undefined;

export function loadOfficial(root: string): OfficialRelease {
  if (loaded) return loaded;
  const release: OfficialRelease = { structureDefinitions: new Map(), valueSets: new Map(), codeSystems: new Map() };
  for (const folder of ['constraints', 'later', 'valuesets', 'codesystems']) {
    for (const file of readdirSync(join(root, folder)).filter((f) => f.endsWith('.xml')).sort()) {
      const r = parseXml(readFileSync(join(root, folder, file), 'utf8')) as Json;
      const map = r.resourceType === 'StructureDefinition' ? release.structureDefinitions : r.resourceType === 'ValueSet' ? release.valueSets : release.codeSystems;
      map.set(r.url, r);
    }
  }
  loaded = release;
  return release;
}
