import { parse as losslessParse } from 'lossless-json';
import { decimalText, flagExact, hasExact, rememberExact } from './decimal.js';
import { badRequest } from './outcome.js';

/**
 * FHIR JSON in and out. https://hl7.org/fhir/STU3/json.html
 *
 * Parsing is JSON.parse, except when the text holds a number whose written form
 * differs from its shortest form (`1.50`, `1e2`, 17 digits): then the text is parsed
 * with lossless-json and the written forms are kept (see decimal.ts).
 */

/**
 * A string literal (skipped whole), or a number token (captured). Strings must be skipped:
 * a time such as "10:00:00" holds "00" after a colon, and an earlier pattern that looked only
 * for digits after `:`, `,` or `[` sent nearly every resource with a time (97% of a generated
 * population) through the slow exact parse.
 */
const STRING_OR_NUMBER = /"[^"\\]*(?:\\.[^"\\]*)*"|(-?\d[\d.eE+-]*)/g;

/** Whether the text holds a number written otherwise than in its shortest form (then parseJson keeps it exactly). */
export function needsExactParse(text: string): boolean {
  STRING_OR_NUMBER.lastIndex = 0;
  for (let m = STRING_OR_NUMBER.exec(text); m; m = STRING_OR_NUMBER.exec(text)) {
    const token = m[1];
    if (token !== undefined && String(Number(token)) !== token) return true;
  }
  return false;
}

/**
 * The first key that appears twice in one object of valid JSON `text`, or undefined. JSON.parse
 * keeps the last silently (`"gender":"male","gender":"female"` was stored as female: issue 15,
 * L2); a request body with one is refused. One pass over the text, no recursion.
 */
export function duplicateKey(text: string): string | undefined {
  const objects: Array<Set<string> | null> = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j++;
        } else if (d === 0x22) break;
      }
      let k = j + 1;
      while (k < n && (text[k] === ' ' || text[k] === '\n' || text[k] === '\r' || text[k] === '\t')) k++;
      const keys = objects[objects.length - 1];
      if (text[k] === ':' && keys) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = j;
    } else if (c === 0x7b) objects.push(new Set());
    else if (c === 0x5b) objects.push(null);
    else if (c === 0x7d || c === 0x5d) objects.pop();
  }
  return undefined;
}

class WrittenNumber {
  constructor(readonly text: string) {}
}

/** Parses JSON text, keeping decimals exactly as written. Throws a 400 FhirError on bad JSON. */
export function parseJson(text: string): unknown {
  // A UTF-8 byte-order mark is legal at the start of a body; JSON.parse refuses it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    if (!needsExactParse(text)) return JSON.parse(text);
    const tree = losslessParse(text, null, (t: string) => (String(Number(t)) === t ? Number(t) : new WrittenNumber(t)));
    restoreNumbers(tree);
    return tree;
  } catch (err) {
    throw badRequest(`The body is not valid JSON: ${(err as Error).message}`, undefined, 'structure');
  }
}

/** Replaces WrittenNumber markers with numbers, remembering their text; returns whether any were found. */
function restoreNumbers(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return false;
  const holder = node as Record<string, unknown>;
  let found = false;
  for (const key of Object.keys(holder)) {
    const v = holder[key];
    if (v instanceof WrittenNumber) {
      holder[key] = Number(v.text);
      rememberExact(holder, key, v.text);
      found = true;
    } else if (restoreNumbers(v)) {
      found = true;
    }
  }
  if (found) flagExact(holder);
  return found;
}

/** Serialises a value as JSON, writing decimals as they were written. */
export function stringifyJson(value: unknown, pretty = false): string {
  const indent = pretty ? 2 : undefined;
  if (!hasExact(value)) return JSON.stringify(value, null, indent);
  const written: string[] = [];
  const nonce = Math.random().toString(36).slice(2);
  const text = JSON.stringify(
    value,
    function (this: object, key: string, v: unknown) {
      if (typeof v === 'number' && key !== '') {
        const t = decimalText(this, key, v);
        if (t !== String(v)) {
          written.push(t);
          return `\u0000${nonce}:${written.length - 1}`;
        }
      }
      return v;
    },
    indent,
  );
  const placeholder = new RegExp(`"\\\\u0000${nonce}:(\\d+)"`, 'g');
  return text.replace(placeholder, (_, i: string) => written[Number(i)]!);
}
