import type { Address, CodeableConcept, HumanName, Quantity, Reference, Resource } from './fhir-types.js';

const dateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });

/** A FHIR date or dateTime for people: "19 Mar 1998", or "11 Jun 2025, 10:05" when it has a time. */
export function formatDate(value: string | undefined): string {
  if (!value) return '';
  if (/^\d{4}$/.test(value)) return value;
  if (/^\d{4}-\d{2}$/.test(value)) return new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${value}-01T00:00:00Z`));
  const d = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(d.getTime())) return value;
  // Midnight exactly is how a date without a time is often written as a dateTime.
  const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
  return value.length > 10 && !midnight ? dateTimeFormat.format(d) : dateFormat.format(d);
}

/** Whole years from a birth date to today (or to a date of death). */
export function ageInYears(birthDate: string | undefined, until = new Date()): number | undefined {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}/.test(birthDate)) return undefined;
  const [y, m, d] = birthDate.slice(0, 10).split('-').map(Number) as [number, number, number];
  let age = until.getUTCFullYear() - y;
  if (until.getUTCMonth() + 1 < m || (until.getUTCMonth() + 1 === m && until.getUTCDate() < d)) age--;
  return age;
}

/** The name to show: the official one first, as "Given FAMILY" the way the NHS banner prints it. */
export function humanName(names: HumanName[] | undefined, style: 'banner' | 'plain' = 'plain'): string {
  if (!names?.length) return '';
  const n = names.find((x) => x.use === 'official') ?? names[0]!;
  if (!n.family && !n.given?.length) return n.text ?? '';
  if (style === 'banner') return [n.family?.toUpperCase(), [...(n.given ?? []), n.prefix?.length ? `(${n.prefix.join(' ')})` : ''].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  return [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

export function addressText(addresses: Address[] | undefined): string {
  const a = addresses?.find((x) => x.use === 'home') ?? addresses?.[0];
  if (!a) return '';
  return a.text ?? [...(a.line ?? []), a.city, a.district, a.postalCode].filter(Boolean).join(', ');
}

export function conceptText(c: CodeableConcept | undefined): string {
  if (!c) return '';
  return c.text ?? c.coding?.find((x) => x.display)?.display ?? c.coding?.[0]?.code ?? '';
}

export function quantityText(q: Quantity | undefined): string {
  if (!q || q.value === undefined) return '';
  return `${q.comparator ?? ''}${q.value}${q.unit ? ` ${q.unit}` : q.code ? ` ${q.code}` : ''}`;
}

/** The explorer page of a reference ("Patient/1", or an absolute URL under the base), if it names one. */
export function referencePath(ref: string | undefined, base: string): string | undefined {
  if (!ref) return undefined;
  let rel = ref;
  if (/^https?:\/\//.test(ref)) {
    if (!ref.startsWith(`${base}/`)) return undefined;
    rel = ref.slice(base.length + 1);
  }
  const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]+))?$/.exec(rel);
  if (!m) return undefined;
  return `/resources/${m[1]}/${m[2]}${m[3] ? `?version=${encodeURIComponent(m[3])}` : ''}`;
}

export function referenceText(r: Reference | undefined): string {
  return r?.display ?? r?.reference ?? '';
}

/** A one-line description of any resource, for tables of search results. */
export function describe(r: Resource): string {
  const any = r as Record<string, unknown>;
  if (Array.isArray(any.name) && typeof any.name[0] === 'object') return humanName(any.name as HumanName[]);
  for (const key of ['title', 'name', 'description']) if (typeof any[key] === 'string') return any[key] as string;
  for (const key of ['code', 'medicationCodeableConcept', 'vaccineCode', 'type', 'category']) {
    const v = any[key];
    const c = Array.isArray(v) ? (v[0] as CodeableConcept | undefined) : (v as CodeableConcept | undefined);
    const text = c && typeof c === 'object' ? conceptText(c) : '';
    if (text) return text;
  }
  const med = any.medicationReference as Reference | undefined;
  if (med) return referenceText(med);
  if (typeof any.status === 'string') return any.status;
  return '';
}
