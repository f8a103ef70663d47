import { describe, expect, it } from 'vitest';
import { hasExact } from './decimal.js';
import { needsExactParse, parseJson, stringifyJson } from './json.js';

describe('parseJson', () => {
  it('keeps decimals as written, wherever they are', () => {
    const text = '{"resourceType":"Observation","valueQuantity":{"value":1.50},"component":[{"valueQuantity":{"value":2.0}}]}';
    expect(stringifyJson(parseJson(text))).toBe(text);
  });

  it('takes the plain path when every number is written in its shortest form, whatever the strings hold', () => {
    // Times, dates and ids hold digit runs after colons and commas ("10:00:05", "a,01"): they are strings, not numbers.
    expect(needsExactParse('{"effectiveDateTime":"2020-05-14T10:00:05Z","valueInteger":7}')).toBe(false);
    expect(needsExactParse('{"note":[{"text":"a,01 [02"}],"s":"q\\":03"}')).toBe(false);
    expect(needsExactParse('{"effectiveDateTime":"2020-05-14T10:00:05Z","value":7.0}')).toBe(true);
    expect(needsExactParse('{"a":[-0]}')).toBe(true);
    const parsed = parseJson('{"effectiveDateTime":"2020-05-14T10:00:05Z","note":[{"text":"a,01 [02"}],"s":"q\\":03","valueInteger":7}');
    expect(hasExact(parsed)).toBe(false);
    expect(parsed).toEqual({ effectiveDateTime: '2020-05-14T10:00:05Z', note: [{ text: 'a,01 [02' }], s: 'q":03', valueInteger: 7 });
  });

  it('still notices a number after a string that holds an escaped quote', () => {
    const text = '{"s":"x\\"","v":2.50}';
    expect(stringifyJson(parseJson(text))).toBe(text);
  });

  it('refuses text that is not JSON with a 400', () => {
    expect(() => parseJson('{"a":"unterminated 00:01')).toThrow(/not valid JSON/);
  });
});
