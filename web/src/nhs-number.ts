/**
 * NHS numbers: ten digits, the last a Modulus 11 check digit over the first nine
 * (weights 10 down to 2; 11 minus the remainder, where 11 means 0 and 10 means
 * the number cannot exist). Shown as 3-3-4, the way the NHS prints them.
 */
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

export function nhsDigits(text: string): string {
  return text.replace(/\D/g, '');
}

/** 9434765919 -> "943 476 5919"; fewer digits are grouped as far as they go. */
export function formatNhsNumber(text: string): string {
  const d = nhsDigits(text).slice(0, 10);
  return [d.slice(0, 3), d.slice(3, 6), d.slice(6)].filter(Boolean).join(' ');
}

export type NhsNumberCheck = 'empty' | 'incomplete' | 'too-long' | 'valid' | 'invalid';

export function checkNhsNumber(text: string): NhsNumberCheck {
  const d = nhsDigits(text);
  if (d.length === 0) return 'empty';
  if (d.length < 10) return 'incomplete';
  if (d.length > 10) return 'too-long';
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(d[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return 'invalid';
  return (check === 11 ? 0 : check) === Number(d[9]) ? 'valid' : 'invalid';
}
