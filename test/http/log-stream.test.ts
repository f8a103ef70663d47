import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

const UCUM = 'http://unitsofmeasure.org';

/**
 * The server's log is JSON lines on standard output (pino): nothing a client sends may make a
 * library print a line of its own there, which no log shipper could read. The UCUM library
 * prints some units it cannot parse with console.log; such units arrive in writes, searches
 * and $validate.
 */
for (const kind of await storeKinds()) describe(`the log stream stays JSON (${kind})`, () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s.cleanup());
  afterEach(() => vi.restoreAllMocks());

  // A blank, text before an annotated parenthesis, text after one: each makes the library's parser throw.
  it.each(['EU/DL SEMI', '{a}b(mg)', '(mg)x{a}'])('a Quantity in %s prints nothing, written, searched and validated', async (unit) => {
    const printed = vi.spyOn(console, 'log');
    const observation = { resourceType: 'Observation', status: 'final', code: { text: 'a test' }, valueQuantity: { value: 1, unit, system: UCUM, code: unit } };
    const written = await s.request('POST', '/STU3/Observation', { body: observation });
    expect(written.status).toBeLessThan(500);
    const searched = await s.request('GET', `/STU3/Observation?value-quantity=${encodeURIComponent(`1|${UCUM}|${unit}`)}`);
    expect(searched.status).toBeLessThan(500);
    const validated = await s.request('POST', '/STU3/Observation/$validate', { body: observation });
    expect(validated.status).toBeLessThan(500);
    // Not valid UCUM: the validator says so, in the OperationOutcome, not on the console.
    expect(JSON.stringify(validated.json)).toContain(unit);
    expect(printed).not.toHaveBeenCalled();
  });

  // The validator's FHIRPath invariants compare Quantities (a Range's low ≤ high, rng-2) through the same library.
  it.each(['EU/DL SEMI', '{a}b(mg)'])('a Range in %s, compared by an invariant, prints nothing', async (unit) => {
    const printed = vi.spyOn(console, 'log');
    const low = { value: 1, unit, system: UCUM, code: unit };
    // Low and high in different units: the comparison converts them.
    const observation = { resourceType: 'Observation', status: 'final', code: { text: 'a test' }, valueRange: { low, high: { value: 3, unit: 'mg', system: UCUM, code: 'mg' } } };
    const validated = await s.request('POST', '/STU3/Observation/$validate', { body: observation });
    expect(validated.status).toBeLessThan(500);
    const written = await s.request('POST', '/STU3/Observation', { body: observation });
    expect(written.status).toBeLessThan(500);
    expect(printed).not.toHaveBeenCalled();
  });
});
