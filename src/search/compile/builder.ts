/**
 * SQL fragments that carry their own bound values, so composing fragments can
 * never put a value at the wrong placeholder. Values are always bound, never
 * spliced into the text, but for a row limit (`limit()`), a whole number the code computes, and
 * resource types (`typeIn()`), names checked to be names.
 */
export type SqlParam = string | number | null;

export class Sql {
  constructor(
    readonly text: string,
    readonly params: readonly SqlParam[],
  ) {}
}

/** `sql\`a = ${1} AND ${other}\``: plain values become `?`, Sql fragments are inlined. */
export function sql(strings: TemplateStringsArray, ...values: Array<Sql | SqlParam>): Sql {
  let text = strings[0]!;
  const params: SqlParam[] = [];
  values.forEach((v, i) => {
    if (v instanceof Sql) {
      text += v.text;
      params.push(...v.params);
    } else {
      text += '?';
      params.push(v);
    }
    text += strings[i + 1]!;
  });
  return new Sql(text, params);
}

/**
 * `LIMIT n`, with n written into the text: SQLite plans with the value of a bound LIMIT, so it
 * prepares such a statement again at every run (a one-row search spent two thirds of its statement
 * time preparing it). A limit is a whole number the code computes, checked here, never a request's text.
 */
export function limit(n: number): Sql {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`A row limit is a whole number, not ${n}`);
  return new Sql(`LIMIT ${n}`, []);
}

/** Trusted SQL text (identifiers and keywords chosen by the code, never by a request). */
export function raw(text: string): Sql {
  return new Sql(text, []);
}

export function join(parts: Sql[], separator: string): Sql {
  return new Sql(
    parts.map((p) => p.text).join(separator),
    parts.flatMap((p) => p.params),
  );
}

/**
 * Joins with ` OR ` or ` AND ` so the expression stays shallow: past 16 parts they are
 * grouped 16 to a parenthesis, recursively. A flat chain of n terms is an expression n deep,
 * and SQLite refuses one deeper than 1,000 ("Expression tree is too large": a page of
 * 1,000 includes ORed their references; issue 15, M4).
 */
export function joinShallow(parts: Sql[], separator: ' OR ' | ' AND '): Sql {
  if (parts.length <= 16) return join(parts, separator);
  const groups: Sql[] = [];
  for (let i = 0; i < parts.length; i += 16) groups.push(sql`(${join(parts.slice(i, i + 16), separator)})`);
  return joinShallow(groups, separator);
}

/**
 * `= 'Patient'` for one resource type, `IN ('Encounter', 'Patient')` for several, written into
 * the text: with the per-type statistics of `resource`'s indexes (sqlite_stat4), SQLite plans
 * with the value of a bound type, so it prepared such a statement again at every run (the
 * lookup of a page's `_include`s spent four fifths of its time so). Types are checked to be
 * names (letters and digits), as every FHIR resource type is; anything else is refused.
 */
export function typeIn(types: readonly string[]): Sql {
  if (!types.length) throw new RangeError('A list of resource types is not empty');
  for (const t of types) if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(t)) throw new RangeError(`Not a resource type: ${JSON.stringify(t).slice(0, 80)}`);
  return new Sql(types.length === 1 ? `= '${types[0]}'` : `IN (${types.map((t) => `'${t}'`).join(', ')})`, []);
}

/** `= ?` for one value, `IN (?, ?)` for several. */
export function inList(values: ReadonlyArray<string | number>): Sql {
  if (values.length === 1) return sql`= ${values[0]!}`;
  return new Sql(`IN (${values.map(() => '?').join(', ')})`, [...values]);
}

export class AliasCounter {
  private n = 0;
  next(): string {
    this.n += 1;
    return `r${this.n}`;
  }
}

/** The next string after every string starting with `prefix` (for index range scans). */
export function prefixUpperBound(prefix: string): string {
  const chars = [...prefix];
  const last = chars.pop()!;
  return chars.join('') + String.fromCodePoint(last.codePointAt(0)! + 1);
}

/** Escapes `%`, `_` and `\` for LIKE ... ESCAPE '\'. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
