import { quote } from '../context.js';
import type { Session } from './session.js';

/**
 * NHS numbers (https://www.datadictionary.nhs.uk/attributes/nhs_number.html): ten
 * digits, the last a Modulus 11 check digit over the first nine (weights 10 down
 * to 2; check = 11 - (sum mod 11); 11 becomes 0; 10 means the number is invalid).
 */
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** Why an NHS number is invalid, or undefined when it is valid. */
export function nhsNumberProblem(value: string): string | undefined {
  if (!/^\d{10}$/.test(value)) return 'an NHS number is exactly 10 digits (no spaces)';
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(value[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return 'no valid NHS number has these first nine digits (their Modulus 11 check digit would be 10)';
  const expected = check === 11 ? 0 : check;
  if (expected !== Number(value[9])) return `the Modulus 11 check digit is wrong (expected ${expected}, found ${value[9]})`;
  return undefined;
}

/** Checks an Identifier with the NHS number system. */
export function checkNhsNumber(s: Session, identifier: Record<string, unknown>, location: string): void {
  if (identifier.system !== NHS_NUMBER_SYSTEM || typeof identifier.value !== 'string') return;
  const problem = nhsNumberProblem(identifier.value);
  if (problem) s.report('error', 'value', `${location}.value`, `'${quote(identifier.value)}' is not a valid NHS number: ${problem}`);
}
