import { describe, expect, it } from 'vitest';
import { describeFor, searchRegistry } from './registry.js';

describe('search parameter descriptions', () => {
  const shared = 'Multiple Resources: \r\n\r\n* [Condition](condition.html): Code for the condition\r\n* [Observation](observation.html): The code of the observation type\r\n';

  it("takes a shared parameter's line for the type, not the heading", () => {
    expect(describeFor(shared, 'Observation')).toBe('The code of the observation type');
    expect(describeFor(shared, 'Condition')).toBe('Code for the condition');
    expect(describeFor(shared, 'Patient')).toBeUndefined();
  });

  it("takes a parameter of one type's first line, without its closing full stop", () => {
    expect(describeFor('Reference to the test or procedure request.', 'Observation')).toBe('Reference to the test or procedure request');
    expect(describeFor('A portion of the name\r\nmore detail', 'Patient')).toBe('A portion of the name');
    expect(describeFor(' \r\n', 'Patient')).toBeUndefined();
  });

  it('describes every parameter of the STU3 definitions by its own line', () => {
    const registry = searchRegistry();
    expect(registry.param('Observation', 'code')?.description).toBe('The code of the observation type');
    expect(registry.param('Patient', 'family')?.description).toBe('A portion of the family name of the patient');
    expect(registry.param('Practitioner', 'family')?.description).toBe('A portion of the family name');
    const all = registry.types().flatMap((t) => registry.params(t).map((p) => ({ at: `${t}.${p.code}`, description: p.description ?? '' })));
    expect(all.length).toBeGreaterThan(1500);
    expect(all.filter((p) => /Multiple Resources|\.$|[\r\n]/.test(p.description)).map((p) => p.at)).toEqual([]);
  });
});
