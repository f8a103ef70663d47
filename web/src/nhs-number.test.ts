import { describe, expect, it } from 'vitest';
import { checkNhsNumber, formatNhsNumber } from './nhs-number.js';

describe('NHS number', () => {
  it('is grouped 3-3-4 as it is typed', () => {
    expect(formatNhsNumber('987')).toBe('987');
    expect(formatNhsNumber('9876')).toBe('987 6');
    expect(formatNhsNumber('987-654-3210')).toBe('987 654 3210');
    expect(formatNhsNumber('98765432101')).toBe('987 654 3210');
  });

  it.each([
    ['9876543210', 'valid'], // the demo patient: remainder 0, so check digit 0
    ['943 476 5919', 'valid'],
    ['9434765918', 'invalid'],
    ['1000000001', 'valid'], // 1 x 10 = 10; 11 - 10 = 1
    ['1000000002', 'invalid'],
    ['', 'empty'],
    ['94347', 'incomplete'],
    ['94347659190', 'too-long'],
  ])('%s is %s', (input, expected) => {
    expect(checkNhsNumber(input)).toBe(expected);
  });

  it('rejects a number whose check digit would be 10', () => {
    // 1*10 + 0... + 1*2 = 12 -> 12 mod 11 = 1 -> 11 - 1 = 10: no valid check digit exists.
    for (let last = 0; last <= 9; last++) expect(checkNhsNumber(`100000001${last}`)).toBe('invalid');
  });
});
