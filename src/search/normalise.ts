/**
 * String search is case- and accent-insensitive (https://hl7.org/fhir/STU3/search.html#string):
 * values are indexed and searched in this folded form. `KanFelD` and `Känfeld` both
 * become `kanfeld`.
 */
/** Longer text is cut here (the index keys on the first 100 characters; see docs/storage.md). */
export const MAX_INDEXED = 10_000;

const PLAIN = /^[\x20-\x7e]*$/;

export function normalise(s: string): string {
  // Printable ASCII needs no Unicode decomposition: only case and spaces.
  if (PLAIN.test(s)) return s.toLowerCase().replace(/\s+/g, ' ').trim().slice(0, MAX_INDEXED);
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_INDEXED);
}

/** Folding for full text: as `normalise`, without the length limit. */
export function normaliseText(s: string): string {
  if (PLAIN.test(s)) return s.toLowerCase();
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}
