import { LOINC, OBSERVATION_CATEGORY, PROFILED, SNOMED, UCUM, profile, type Concept } from '../codes/systems.js';
import { OBSERVATION_CATEGORIES, type ObservationDef } from '../codes/observations.js';
import { narrativeOf } from './narrative.js';
import type { Res } from './types.js';

/** Small builders shared by the generators: meta, codings, quantities. */

export function meta(type: string): { profile: string[] } | undefined {
  return PROFILED.has(type) ? { profile: [profile(type)] } : undefined;
}

/**
 * A generated resource: its Care Connect profile claimed in meta.profile, and a
 * generated narrative made from the body (every DomainResource carries one).
 */
export function resource(type: string, id: string, body: Record<string, unknown>): Res {
  const m = meta(type);
  const text = narrativeOf(type, body);
  return { resourceType: type, id, ...(m ? { meta: m } : {}), ...(text ? { text } : {}), ...body };
}

export function sct(c: Concept): { coding: Array<{ system: string; code: string; display: string }> } {
  return { coding: [{ system: SNOMED, code: c.code, display: c.display }] };
}

/** A CodeableConcept with the SNOMED coding first and the LOINC one (for vital signs) after it. */
export function observationCode(def: ObservationDef): { coding: Array<{ system: string; code: string; display: string }> } {
  const cc = sct(def);
  if (def.loinc) cc.coding.push({ system: LOINC, code: def.loinc.code, display: def.loinc.display });
  return cc;
}

export function observationCategory(def: ObservationDef): Array<{ coding: Array<{ system: string; code: string; display: string }> }> {
  const c = OBSERVATION_CATEGORIES[def.category];
  return [{ coding: [{ system: OBSERVATION_CATEGORY, code: c.code, display: c.display }] }];
}

export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** A UCUM quantity, the value rounded as the observation reports it. */
export function quantity(value: number, def: Pick<ObservationDef, 'unit' | 'ucum' | 'decimals'>): Record<string, unknown> {
  return { value: round(value, def.decimals), unit: def.unit, system: UCUM, code: def.ucum };
}

/** A UK phone number from the ranges Ofcom keeps for drama (never a real line). */
export function dramaPhone(kind: 'mobile' | 'leeds', n: number): string {
  return kind === 'mobile' ? `07700 900${String(n % 1000).padStart(3, '0')}` : `0113 496 0${String(n % 1000).padStart(3, '0')}`;
}
