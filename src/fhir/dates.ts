/**
 * FHIR dates as the ranges they denote. A date, dateTime or instant is a period:
 * `2017` is all of 2017, `2017-05-03T10:00:00Z` the whole second.
 * https://hl7.org/fhir/STU3/search.html#date
 *
 * Values without a time zone are taken as UTC (documented in docs/search.md).
 */

const DATE_RE = /^(-?\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export interface DateRange {
  low: number;
  high: number;
}

/** The range a FHIR date/dateTime/instant denotes (epoch ms, both ends inclusive), or undefined if malformed. */
export function dateRange(text: string): DateRange | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo === undefined ? undefined : Number(mo);
  const day = d === undefined ? undefined : Number(d);
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && (day < 1 || day > daysIn(year, month!))) return undefined;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 60))) return undefined;
  const offset = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000 : 0;
  const utc = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0, ms = 0) => {
    const t = new Date(0);
    t.setUTCFullYear(yy, mm - 1, dd);
    t.setUTCHours(hh, mn, ss, ms);
    return t.getTime();
  };
  if (month === undefined) return { low: utc(year, 1, 1), high: utc(year + 1, 1, 1) - 1 };
  if (day === undefined) {
    const next = month === 12 ? utc(year + 1, 1, 1) : utc(year, month + 1, 1);
    return { low: utc(year, month, 1), high: next - 1 };
  }
  if (h === undefined) return { low: utc(year, month, day), high: utc(year, month, day + 1) - 1 };
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const start = utc(year, month, day, Number(h), Number(mi), s === undefined ? 0 : Number(s)) + ms - offset;
  if (s === undefined) return { low: start, high: start + 60_000 - 1 };
  if (frac === undefined) return { low: start, high: start + 999 };
  // Sub-millisecond precision is below what the index keeps: the millisecond holds it.
  return { low: start, high: start + (frac.length >= 3 ? 0 : 10 ** (3 - frac.length) - 1) };
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The earliest and latest instants an index keeps for open-ended periods. */
export const MIN_INSTANT = -8_640_000_000_000_000;
export const MAX_INSTANT = 8_640_000_000_000_000;
