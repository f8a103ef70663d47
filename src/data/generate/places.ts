import { INWARD_LETTERS, LEEDS_DISTRICTS, STREETS } from '../codes/names.js';
import type { Rng } from '../prng.js';

/** A well-formed postcode in the given outward district (e.g. LS6 2QR). */
export function postcode(rng: Rng, district: string): string {
  return `${district} ${rng.int(1, 9)}${rng.pick([...INWARD_LETTERS])}${rng.pick([...INWARD_LETTERS])}`;
}

/** A home address somewhere in Leeds. */
export function homeAddress(rng: Rng): Record<string, unknown> {
  const [district, locality] = rng.pick(LEEDS_DISTRICTS);
  return {
    use: 'home',
    type: 'both',
    line: [`${rng.int(1, 250)} ${rng.pick(STREETS)}`, locality],
    city: 'Leeds',
    district: 'West Yorkshire',
    postalCode: postcode(rng, district),
    country: 'GB',
  };
}
