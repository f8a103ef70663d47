import { expect, it } from 'vitest';
import { precisionBounds } from './values.js';

it("derives the range a number's precision implies, exactly in decimal", () => {
  expect(precisionBounds('100')).toEqual([99.5, 100.5]);
  expect(precisionBounds('0.0015')).toEqual([0.00145, 0.00155]);
  expect(precisionBounds('-2.5')).toEqual([-2.55, -2.45]);
  // One significant figure: 1e2 is 100 give or take 50.
  expect(precisionBounds('1e2')).toEqual([50, 150]);
  expect(precisionBounds('1.5e-3')).toEqual([0.00145, 0.00155]);
  expect(precisionBounds('+7')).toEqual([6.5, 7.5]);
  expect(precisionBounds('.5')).toEqual([0.45, 0.55]);
});
