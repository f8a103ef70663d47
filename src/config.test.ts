import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig: CCRI_SEARCH_HANDLING', () => {
  it('is strict by default', () => {
    expect(loadConfig({}, {}).searchHandling).toBe('strict');
  });
  it('takes lenient or strict from the environment, and an override over both', () => {
    expect(loadConfig({}, { CCRI_SEARCH_HANDLING: 'lenient' }).searchHandling).toBe('lenient');
    expect(loadConfig({}, { CCRI_SEARCH_HANDLING: 'strict' }).searchHandling).toBe('strict');
    expect(loadConfig({ searchHandling: 'strict' }, { CCRI_SEARCH_HANDLING: 'lenient' }).searchHandling).toBe('strict');
  });
  it('refuses anything else, naming the setting', () => {
    expect(() => loadConfig({}, { CCRI_SEARCH_HANDLING: 'loose' })).toThrow(/CCRI_SEARCH_HANDLING must be strict or lenient, not 'loose'/);
  });
});
