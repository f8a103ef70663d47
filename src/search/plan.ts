/**
 * The typed intermediate form of a search, after parsing and checking against the
 * registry, before SQL. Each store compiles it with its dialect (search/compile/).
 * https://hl7.org/fhir/STU3/search.html
 */

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

/** A date value as the range it denotes, in epoch milliseconds (both inclusive). */
export interface DateValue {
  prefix: Prefix;
  low: number;
  high: number;
}

export interface TokenValue {
  /** undefined: any system; null: no system (`|code`); string: that system. */
  system?: string | null;
  /** undefined: any code (`system|`). */
  code?: string;
}

export interface NumberValue {
  prefix: Prefix;
  value: number;
  /** The range the written value's precision implies (e.g. 100 -> [99.5, 100.5)). */
  low: number;
  high: number;
}

export interface QuantityValue extends NumberValue {
  system?: string;
  code?: string;
  /** UCUM-canonical form of the value, when the unit is UCUM and convertible. */
  canon?: { low: number; high: number; value: number; unit: string };
}

export interface ReferenceValue {
  /** Target type when known (from `Type/id` or the `:Type` modifier). */
  type?: string;
  id?: string;
  /** An absolute URL that is not on this server, matched as written. */
  url?: string;
}

/** A single-parameter test. `values` are ORed (comma-separated in the query). */
export type Condition =
  | { kind: 'token'; param: string; values: TokenValue[]; not?: boolean }
  | { kind: 'token-text'; param: string; values: string[] }
  /**
   * Token modifiers that need terminology: `:in` / `:not-in` a value set, `:below` /
   * `:above` a code in a code system's hierarchy. The search interaction expands them to
   * plain token conditions before the plan reaches a store.
   */
  | { kind: 'token-set'; param: string; relation: 'in' | 'not-in' | 'below' | 'above'; values: Array<{ valueSet?: string; system?: string; code?: string }> }
  | { kind: 'string'; param: string; values: string[]; mode: 'prefix' | 'exact' | 'contains' }
  | { kind: 'date'; param: string; values: DateValue[] }
  | { kind: 'number'; param: string; values: NumberValue[] }
  | { kind: 'quantity'; param: string; values: QuantityValue[] }
  | { kind: 'reference'; param: string; values: ReferenceValue[] }
  | { kind: 'uri'; param: string; values: string[]; mode: 'eq' | 'above' | 'below' }
  | { kind: 'missing'; param: string; table: IndexTable; missing: boolean }
  | { kind: 'id'; values: string[]; not?: boolean }
  | { kind: 'lastUpdated'; values: DateValue[] }
  | { kind: 'compartment'; patient: string }
  /** In the compartment of any of these patients (a Group's members, say). */
  | { kind: 'compartments'; patients: string[] }
  /** `param` (a reference) points at a resource of one of `targetTypes` that matches `where`. */
  | { kind: 'chain'; param: string; targetTypes: string[]; where: Condition }
  /** Some resource of `type` whose reference `param` points here matches `where` (`_has`). */
  | { kind: 'has'; type: string; param: string; where: Condition }
  | { kind: 'composite'; param: string; values: CompositeValue[] }
  | { kind: 'text'; values: string[]; content: boolean }
  | { kind: 'or'; any: Condition[] }
  /** Resources of `type` must match `where`; resources of other types pass (a per-type test in a search over several types). */
  | { kind: 'for-type'; type: string; where: Condition }
  | { kind: 'none' };

/** A composite value `a$b`: the first component is a token (or a reference, stored as type|id). */
export interface CompositeValue {
  first: TokenValue;
  second:
    | { kind: 'token'; value: TokenValue }
    | { kind: 'number'; value: NumberValue }
    | { kind: 'quantity'; value: QuantityValue }
    | { kind: 'date'; value: DateValue }
    | { kind: 'string'; value: string };
}

export type IndexTable = 'token' | 'string' | 'date' | 'number' | 'quantity' | 'reference' | 'uri' | 'composite';

/** A sort key's value for one resource, as the store compares it (null: the resource has none). */
export type SortValue = string | number | null;

export interface SortKey {
  /** `_id`, `_lastUpdated`, or a search parameter code. */
  param: string;
  table?: IndexTable;
  descending: boolean;
}

export interface SearchPlan {
  /** The resource types searched; more than one for a system-wide search. */
  types: string[];
  /** ANDed conditions. */
  where: Condition[];
  sort: SortKey[];
  count: number;
  offset: number;
  /**
   * Keyset paging: only rows after the position of this resource row id (in the default
   * order, the rows with a higher rid). The offset is then only what the page reports; the
   * database seeks, it does not skip. Without it, `offset` rows are skipped.
   */
  after?: number;
  /**
   * With `after` in a sorted search: that row's value of each sort key (one per `sort`
   * entry), as the store returned them (SearchPage.lastKeys). The page holds the rows
   * strictly after (values, rid) in the full order.
   */
  afterKeys?: SortValue[];
  /**
   * With `after`: the rows strictly before that position instead, the `count` nearest it (a
   * `previous` page), still in the search's order; the page's `more` then says whether there
   * are rows before them.
   */
  backward?: boolean;
  /** Whether to count all matches (Bundle.total). */
  total: boolean;
}
