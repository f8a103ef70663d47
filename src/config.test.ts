import { describe, expect, it } from 'vitest';
import { loadConfig, workerNodeName } from './config.js';

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

describe('loadConfig: CCRI_INNER_SEARCH_MAX', () => {
  it('is 10,000 by default, and may be set from 1 to 100,000', () => {
    expect(loadConfig({}, {}).innerSearchMax).toBe(10_000);
    expect(loadConfig({}, { CCRI_INNER_SEARCH_MAX: '50' }).innerSearchMax).toBe(50);
    expect(loadConfig({}, { CCRI_INNER_SEARCH_MAX: '100000' }).innerSearchMax).toBe(100_000);
    expect(() => loadConfig({}, { CCRI_INNER_SEARCH_MAX: '0' })).toThrow(/CCRI_INNER_SEARCH_MAX must be 1 to 100000, not 0/);
    expect(() => loadConfig({}, { CCRI_INNER_SEARCH_MAX: '100001' })).toThrow(/CCRI_INNER_SEARCH_MAX must be 1 to 100000/);
  });
});

describe('loadConfig: the remote terminology server', () => {
  it('is off unless CCRI_TERMINOLOGY_URL is set; then the defaults', () => {
    expect(loadConfig({}, {}).terminology).toBeUndefined();
    expect(loadConfig({}, { CCRI_TERMINOLOGY_URL: 'https://tx.example.org/fhir/' }).terminology).toEqual({
      url: 'https://tx.example.org/fhir',
      timeoutMs: 5000,
      cacheEntries: 10_000,
      cacheTtl: 3600,
      systems: ['http://snomed.info/sct', 'https://dmd.nhs.uk', 'http://loinc.org', 'http://hl7.org/fhir/sid/icd-10', 'http://hl7.org/fhir/sid/icd-10-uk'],
    });
  });
  it('takes its timeout, cache and code systems from the environment', () => {
    const t = loadConfig({}, { CCRI_TERMINOLOGY_URL: 'http://tx', CCRI_TERMINOLOGY_TIMEOUT_MS: '250', CCRI_TERMINOLOGY_CACHE_SIZE: '0', CCRI_TERMINOLOGY_CACHE_TTL: '60', CCRI_TERMINOLOGY_SYSTEMS: ' http://loinc.org , http://snomed.info/sct ' }).terminology;
    expect(t).toMatchObject({ timeoutMs: 250, cacheEntries: 0, cacheTtl: 60, systems: ['http://loinc.org', 'http://snomed.info/sct'] });
    expect(loadConfig({}, { CCRI_TERMINOLOGY_URL: 'http://tx', CCRI_TERMINOLOGY_SYSTEMS: '*' }).terminology?.systems).toBe('*');
  });
  it('refuses a URL that is not http(s), carries credentials or a query, and a zero timeout', () => {
    expect(() => loadConfig({}, { CCRI_TERMINOLOGY_URL: 'tx.example.org' })).toThrow(/CCRI_TERMINOLOGY_URL: .*http or https/);
    expect(() => loadConfig({}, { CCRI_TERMINOLOGY_URL: 'https://me:secret@tx.example.org/fhir' })).toThrow(/must not carry credentials/);
    expect(() => loadConfig({}, { CCRI_TERMINOLOGY_URL: 'https://tx.example.org/fhir?_format=json' })).toThrow(/without a query/);
    expect(() => loadConfig({}, { CCRI_TERMINOLOGY_URL: 'https://tx.example.org/fhir', CCRI_TERMINOLOGY_TIMEOUT_MS: '0' })).toThrow(/CCRI_TERMINOLOGY_TIMEOUT_MS must be at least 1/);
  });
  it('CCRI_DEFINITIONS: comma-separated paths', () => {
    expect(loadConfig({}, { CCRI_DEFINITIONS: 'a.json, dir/' }).definitions).toEqual(['a.json', 'dir/']);
  });
});

describe('loadConfig: CCRI_WORKERS', () => {
  it('is 1 by default; takes the environment, and an override (--workers) over it', () => {
    expect(loadConfig({}, {}).workers).toBe(1);
    expect(loadConfig({}, { CCRI_WORKERS: '4' }).workers).toBe(4);
    expect(loadConfig({ workers: 2 }, { CCRI_WORKERS: '4' }).workers).toBe(2);
  });
  it('refuses 0, more than 64 and what is not a whole number, naming the setting', () => {
    expect(() => loadConfig({}, { CCRI_WORKERS: '0' })).toThrow(/CCRI_WORKERS must be a whole number from 1 to 64, not '0'/);
    expect(() => loadConfig({}, { CCRI_WORKERS: '65' })).toThrow(/CCRI_WORKERS must be a whole number from 1 to 64/);
    expect(() => loadConfig({}, { CCRI_WORKERS: 'two' })).toThrow(/CCRI_WORKERS must be a non-negative integer, not 'two'/);
  });
  it('names worker i of a node <name>-w<i>', () => {
    expect(workerNodeName('fhir1', 2)).toBe('fhir1-w2');
  });
});
