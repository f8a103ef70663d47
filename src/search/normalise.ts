/**
 * String search is case- and accent-insensitive (https://hl7.org/fhir/STU3/search.html#string):
 * values are indexed and searched in this folded form. `KanFelD` and `Känfeld` both
 * become `kanfeld`.
 */
const MAX_INDEXED = 200;

export function normalise(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_INDEXED);
}
