import { type Access, splitTypes } from '../access.js';
import { inList, raw, type Sql, sql, typeIn } from './builder.js';

/** Whether the access test of a query drives it (produces the candidate rows) or probes candidates. */
export type AccessMode = 'drive' | 'probe';

const NOTHING = raw('1 = 0');

/**
 * The one place access becomes SQL: the test that a resource row `alias` (a row of
 * `resource` or `resource_version`, whose type is one of `types`) is visible under
 * `access`. Undefined when `access` hides nothing of those types. Every query the
 * compiler writes (the top one, and the inner ones of chains and `_has`) and every read
 * by id and history passes through here.
 *
 * A row is visible when its type is visible in full, or its type is confined to
 * compartments and the row is in one of them: listed in `compartment` for one of the
 * patients, or (for a Patient) one of the patients itself.
 */
export function accessTest(access: Access, alias: string, types: readonly string[], mode: AccessMode = 'probe'): Sql | undefined {
  const { all, compartment } = splitTypes(access, types);
  if (all.length === types.length) return undefined;
  if (!all.length && !compartment.length) return NOTHING;
  const a = raw(alias);
  const parts: Sql[] = [];
  // Types the caller may not see at all are cut out by name.
  const visible = [...all, ...compartment];
  if (visible.length < types.length) parts.push(sql`${a}.type ${typeIn(visible)}`);
  if (compartment.length) {
    const patients = access.patients;
    const member =
      mode === 'drive'
        ? sql`${a}.rid IN (SELECT rid FROM compartment WHERE patient ${inList(patients)})`
        : sql`EXISTS (SELECT 1 FROM compartment WHERE rid = ${a}.rid AND patient ${inList(patients)})`;
    const inside = compartment.includes('Patient') ? sql`(${member} OR (${a}.type = 'Patient' AND ${a}.id ${inList(patients)}))` : member;
    parts.push(all.length ? sql`(${a}.type ${typeIn(all)} OR ${inside})` : inside);
  }
  return parts.length === 1 ? parts[0] : sql`${parts[0]!} AND ${parts[1]!}`;
}

/** Whether the access test over `types` confines rows to compartments (and so can drive a query). */
export function confinesToCompartments(access: Access, types: readonly string[]): boolean {
  const { all, compartment } = splitTypes(access, types);
  return compartment.length > 0 && all.length === 0;
}
