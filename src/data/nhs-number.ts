/**
 * NHS numbers: ten digits, the last a Modulus 11 check digit over the first nine
 * (weights 10 down to 2; check = 11 - (sum mod 11); 11 becomes 0; 10 is impossible,
 * so such a stem is never issued). Synthetic data uses the 999 range, reserved for testing.
 * https://www.datadictionary.nhs.uk/attributes/nhs_number.html
 */

/** The check digit of a nine-digit stem, or undefined when the stem cannot be issued. */
export function nhsCheckDigit(stem: string): number | undefined {
  if (!/^\d{9}$/.test(stem)) return undefined;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(stem[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

export function isValidNhsNumber(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  return nhsCheckDigit(value.slice(0, 9)) === Number(value[9]);
}

/**
 * Issues distinct valid NHS numbers in the 999 range, walking the million stems
 * 999000000-999999999 from a starting point (so different seeds start elsewhere).
 */
export class NhsNumberIssuer {
  private next: number;
  private issued = 0;

  constructor(start: number) {
    this.next = ((start % 1_000_000) + 1_000_000) % 1_000_000;
  }

  issue(): string {
    for (;;) {
      if (this.issued >= 1_000_000) throw new Error('The 999 range of NHS numbers is exhausted');
      const stem = `999${String(this.next).padStart(6, '0')}`;
      this.next = (this.next + 1) % 1_000_000;
      this.issued++;
      const check = nhsCheckDigit(stem);
      if (check !== undefined) return `${stem}${check}`;
    }
  }
}
