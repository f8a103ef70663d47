/**
 * The search-index values extracted from one resource at write time, one list per
 * parameter type. The store writes them in the same transaction as the resource.
 * Encodings are documented in docs/storage.md.
 */
export interface IndexRows {
  /** [param, system, code, display text (normalised) ] — for token params. */
  token: Array<[param: string, system: string | null, code: string | null, text: string | null]>;
  /** [param, normalised (case- and accent-folded), exact] — for string params. */
  string: Array<[param: string, norm: string, exact: string]>;
  /** [param, low bound, high bound] in epoch milliseconds (inclusive low, inclusive high). */
  date: Array<[param: string, low: number, high: number]>;
  /** [param, value] — for number params. */
  number: Array<[param: string, value: number]>;
  /** [param, value, system, code, human-readable unit, canonical value, canonical unit] — for quantity params. */
  quantity: Array<[param: string, value: number, system: string | null, code: string | null, unit: string | null, canonValue: number | null, canonUnit: string | null]>;
  /** [param, target type, target id, the reference as written ('' for a local one)] — for reference params. */
  reference: Array<[param: string, targetType: string | null, targetId: string | null, url: string]>;
  /** [param, uri] — for uri params. */
  uri: Array<[param: string, uri: string]>;
  /**
   * [param, first component (system, code), second component: token (system, code), or a
   * range (low, high: a number, a quantity's value, or a date's epoch ms), canonical quantity
   * (value, unit), or a folded string] — for composite params, one row per pair within one item.
   */
  composite: Array<[param: string, system1: string | null, code1: string | null, system2: string | null, code2: string | null, low2: number | null, high2: number | null, canon2: number | null, unit2: string | null, norm2: string | null]>;
  /** The words of the narrative (`_text`) and of all the text (`_content`), folded and space-separated. */
  text: { narrative: string; content: string } | null;
  /** The ids of the patients whose compartment holds this resource. */
  compartments: string[];
}

/** The kinds of index row, each stored in a table of its own. */
export const INDEX_KINDS = ['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri', 'composite'] as const;
export type IndexKind = (typeof INDEX_KINDS)[number];

export function emptyIndexRows(): IndexRows {
  return { token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [], composite: [], text: null, compartments: [] };
}

/** Turns a resource into its index rows. Supplied to the store by the search layer. */
export type Indexer = (resource: Record<string, unknown>) => IndexRows;
