/**
 * Reading FHIRPath text without parsing it: the characters of an expression that stand at
 * its top level, outside string literals and parentheses. Enough to split a union at `|`
 * (search/registry.ts) or a chain at `.` (validation/profile/invariants.ts).
 */

/** Each top-level character with its index; quotes and parentheses themselves are not yielded. */
export function* topLevel(expression: string): Generator<[char: string, index: number]> {
  let depth = 0;
  let quote = false;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === "'") quote = false;
    } else if (c === "'") quote = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0) yield [c, i];
  }
}

/** The expression cut at every top-level `separator`, pieces trimmed. */
export function splitTopLevel(expression: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const [c, i] of topLevel(expression)) {
    if (c === separator) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts;
}
