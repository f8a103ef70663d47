import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { generateConformance } from '../../src/profiles/build/generate.js';
import { KNOWN_DIFFERENCES, NOT_CARRIED, type KnownDifference } from '../../src/profiles/known-differences.js';
import { idOf } from '../../src/profiles/urls.js';
import { sharedPath } from '../helpers/shared.js';
import { compareStructureDefinitions, type Difference } from './compare.js';
import { loadOfficial, type Json } from './official.js';
import { codesOfSystem, codesOfValueSet, compareSets } from './terminology.js';

/**
 * The oracle: our generated Care Connect definitions against the official release
 * (../shared/careconnect-stu3, XML with snapshots). Any difference fails, unless
 * src/profiles/known-differences.ts lists it (as docs/profiles.md does, with the reason);
 * a listed difference that no longer occurs fails too.
 */

const root = sharedPath('careconnect-stu3');
const key = (d: { resource: string; element?: string | undefined; aspect: string }) => `${d.resource} | ${d.element ?? '-'} | ${d.aspect}`;
const known = new Map(KNOWN_DIFFERENCES.map((k) => [key(k), k]));

// Without ../shared there is nothing to compare against; sharedPath has said so (and fails under CI=true).
if (root) describe('Care Connect definitions agree with the official release', () => {
  const official = loadOfficial(root);
  const ours = generateConformance();
  const ourSds = new Map(ours.structureDefinitions.map((r) => [r.url, r as Json]));
  const ourVss = new Map(ours.valueSets.map((r) => [r.url, r as Json]));
  const ourCss = new Map(ours.codeSystems.map((r) => [r.url, r as Json]));
  const carried = [...official.structureDefinitions.values()].filter((sd) => ourSds.has(sd.url));
  const sdDifferences = new Map(carried.map((sd) => [sd.url as string, compareStructureDefinitions(sd, ourSds.get(sd.url)!)]));
  const valueSetDifferences = compareValueSets();
  const codeSystemDifferences = compareCodeSystems();
  const unexpected = (ds: Difference[]) => ds.filter((d) => !known.has(key({ ...d, resource: idOf(d.url) }))).map((d) => ({ ...d, resource: idOf(d.url) }));

  it('carries every official StructureDefinition, or says why not', () => {
    const notCarried = new Set(NOT_CARRIED.map((n) => n.resource));
    const missing = [...official.structureDefinitions.values()].filter((sd) => !ourSds.has(sd.url) && !notCarried.has(idOf(sd.url))).map((sd) => sd.url);
    expect(missing).toEqual([]);
    for (const n of NOT_CARRIED) {
      const url = [...official.structureDefinitions.keys()].find((u) => idOf(u) === n.resource);
      expect(url, `${n.resource} is not in the release`).toBeDefined();
      expect(ourSds.has(url!), `${n.resource} is listed as not carried, but we carry it`).toBe(false);
      // What we do not carry, nothing we carry may need.
      for (const sd of ourSds.values()) expect(JSON.stringify(sd).includes(`"${url}"`), `${sd.id} refers to ${n.resource}`).toBe(false);
    }
    expect(carried.length).toBe(61);
  });

  describe('StructureDefinitions, element by element (min, max, fixed and pattern values, bindings, slicing and slices, types and profiles)', () => {
    it.each(carried.map((sd) => [idOf(sd.url), sd.url as string] as const))('%s', (_id, url) => {
      expect(unexpected(sdDifferences.get(url)!)).toEqual([]);
    });
  });

  it('has every value set that the profiles bind with required or extensible strength, with the same codes', () => {
    expect(boundValueSets().size).toBeGreaterThan(30);
    expect(unexpected(valueSetDifferences)).toEqual([]);
  });

  it('has every code system those value sets draw on, with the same codes', () => {
    expect(unexpected(codeSystemDifferences)).toEqual([]);
  });

  it('finds every listed known difference (the list holds no stale entry)', () => {
    const found = [...[...sdDifferences.values()].flat(), ...valueSetDifferences, ...codeSystemDifferences];
    const seen = new Set(found.map((d) => key({ ...d, resource: idOf(d.url) })));
    expect(KNOWN_DIFFERENCES.filter((k) => !seen.has(key(k))).map(key)).toEqual([]);
  });

  /** The official value sets that the carried profiles bind with required or extensible strength. */
  function boundValueSets(): Set<string> {
    const bound = new Set<string>();
    for (const sd of carried) {
      for (const e of sd.snapshot.element as Json[]) {
        const b = e.binding;
        const vs = b?.valueSetReference?.reference ?? b?.valueSetUri;
        if (vs && (b.strength === 'required' || b.strength === 'extensible') && official.valueSets.has(vs)) bound.add(vs);
      }
    }
    return bound;
  }

  /** Those, and every other official value set we carry, compared by their codes. */
  function compareValueSets(): Difference[] {
    const compared = new Set([...boundValueSets(), ...[...ourVss.keys()].filter((u) => official.valueSets.has(u))]);
    const differences: Difference[] = [];
    for (const url of compared) {
      const ourVs = ourVss.get(url);
      if (!ourVs) {
        differences.push({ url, aspect: 'missing' });
        continue;
      }
      const d = compareSets(
        codesOfValueSet(official.valueSets.get(url)!, (s) => official.codeSystems.get(s)),
        codesOfValueSet(ourVs, (s) => ourCss.get(s)),
      );
      if (d) differences.push({ url, aspect: 'codes', official: `missing from ours: ${d.missing.join(', ') || 'none'}`, ours: `extra in ours: ${d.extra.join(', ') || 'none'}` });
    }
    return differences;
  }

  /** The official code systems those value sets draw on, and every other one we carry, compared by their codes. */
  function compareCodeSystems(): Difference[] {
    const systems = new Set<string>();
    for (const url of boundValueSets()) for (const i of official.valueSets.get(url)!.compose.include as Json[]) if (official.codeSystems.has(i.system)) systems.add(i.system);
    for (const url of ourCss.keys()) if (official.codeSystems.has(url)) systems.add(url);
    const differences: Difference[] = [];
    for (const url of systems) {
      const cs = ourCss.get(url);
      if (!cs) {
        differences.push({ url, aspect: 'missing' });
        continue;
      }
      const d = compareSets(new Set(codesOfSystem(official.codeSystems.get(url)!)), new Set(codesOfSystem(cs)));
      if (d) differences.push({ url, aspect: 'codes', official: `missing from ours: ${d.missing.join(', ') || 'none'}`, ours: `extra in ours: ${d.extra.join(', ') || 'none'}` });
    }
    if (systems.size < 15) throw new Error(`Only ${systems.size} code systems compared`);
    return differences;
  }
});

describe('the known differences', () => {
  it('are documented in docs/profiles.md with the same reasons', () => {
    const doc = readFileSync(join(projectRoot(), 'docs', 'profiles.md'), 'utf8');
    const section = doc.split(/^## Known differences from the official definitions$/m)[1]?.split(/^## /m)[0];
    expect(section, 'docs/profiles.md has the section "Known differences from the official definitions"').toBeDefined();
    const rows = documentedRows(section!);
    const normalise = (k: KnownDifference) => ({ resource: k.resource, element: k.element ?? '-', aspect: k.aspect, reason: k.reason.replace(/\s+/g, ' ') });
    expect(rows).toEqual(KNOWN_DIFFERENCES.map(normalise));
    for (const n of NOT_CARRIED) expect(doc.includes(n.resource), `docs/profiles.md names ${n.resource} among those not carried`).toBe(true);
  });
});

/** The rows of the section's table: resource | element | aspect | reason (backticks around the first three are dropped). */
function documentedRows(section: string): Array<{ resource: string; element: string; aspect: string; reason: string }> {
  return section
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l) && !/^\|\s*resource\s*\|/.test(l))
    .map((l) => {
      const cells = l.slice(1, -1).split(' | ').map((c) => c.trim());
      const [resource, element, aspect, ...reason] = cells;
      const bare = (s: string | undefined) => (s ?? '').replace(/^`|`$/g, '');
      return { resource: bare(resource), element: bare(element), aspect: bare(aspect), reason: reason.join(' | ') };
    });
}
