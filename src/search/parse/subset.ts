import { badRequest } from '../../fhir/outcome.js';

/**
 * `_summary` and `_elements`, which ask for part of each resource: in a search
 * (https://hl7.org/fhir/STU3/search.html#summary, #elements) and in a read or vread,
 * where they apply the same way (https://hl7.org/fhir/STU3/http.html#read).
 */

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

const SUMMARY_MODES: readonly string[] = ['true', 'text', 'data', 'count', 'false'];

export function parseSummary(value: string): SummaryMode {
  if (!SUMMARY_MODES.includes(value)) throw badRequest(`_summary must be one of true, text, data, count, false; not '${value}'`, '_summary');
  return value as SummaryMode;
}

/** The element names of `_elements` (top-level names; the mandatory and modifier elements are kept besides). */
export function parseElements(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

export interface Subsetting {
  summary?: SummaryMode;
  elements?: string[];
}

/**
 * The `_summary` and `_elements` of a read or vread (other parameters are not for a read,
 * and are left alone). `_summary=count` counts search matches, so it is refused here.
 */
export function parseReadSubsetting(query: Array<[string, string]>): Subsetting {
  const out: Subsetting = {};
  for (const [name, value] of query) {
    if (value === '') continue;
    if (name === '_summary') {
      const summary = parseSummary(value);
      if (summary === 'count') throw badRequest('_summary=count counts the matches of a search; a read has none to count', '_summary');
      out.summary = summary;
    } else if (name === '_elements') {
      out.elements = [...(out.elements ?? []), ...parseElements(value)];
    }
  }
  return out;
}

/** Whether a subsetting asks for less than the whole resource. */
export function isSubsetting(s: Subsetting): boolean {
  return (s.summary !== undefined && s.summary !== 'false') || (s.elements !== undefined && s.elements.length > 0);
}
