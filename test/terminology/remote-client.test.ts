import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirError } from '../../src/fhir/outcome.js';
import type { SearchPlan } from '../../src/search/plan.js';
import { RemoteTerminology, TerminologyUnavailable } from '../../src/terminology/remote.js';
import { expandTerminology } from '../../src/terminology/search.js';
import { careConnectCatalogue } from '../../src/validation/profile/catalogue.js';
import { validateResourceWith } from '../../src/validation/profile/validate.js';
import { CODES, SCT } from './sample.js';

/**
 * The terminology client against a hostile or broken server (a plain HTTP server written for
 * the test): answers that are not JSON, not FHIR, too large, too deep, too slow, or errors.
 * Each is a TerminologyUnavailable (a warning in validation, a 503 in search), never a crash.
 */

let server: Server;
let origin: string;
const calls = new Map<string, number>();
const held: ServerResponse[] = [];

function answer(req: IncomingMessage, res: ServerResponse): void {
  const mode = new URL(req.url!, 'http://x').pathname.split('/')[1]!;
  calls.set(mode, (calls.get(mode) ?? 0) + 1);
  const json = (status: number, body: unknown, type = 'application/fhir+json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  switch (mode) {
    case 'good':
      return json(200, { resourceType: 'Parameters', parameter: [{ name: 'result', valueBoolean: true }, { name: 'display', valueString: 'Fine\u0000\u001b[31m' }] });
    case 'malformed':
      return json(200, '{"resourceType": "Parameters", "parameter": [');
    case 'html':
      return json(200, '<html><body>Sign in</body></html>', 'text/html');
    case 'not-parameters':
      return json(200, { resourceType: 'Patient' });
    case 'no-result':
      return json(200, { resourceType: 'Parameters', parameter: [{ name: 'result', valueString: 'yes' }] });
    case 'huge':
      return json(200, { resourceType: 'Parameters', parameter: [{ name: 'result', valueBoolean: true }, { name: 'message', valueString: 'x'.repeat(200_000) }] });
    case 'deep': {
      // An expansion nested 5,000 levels deep, and items of the wrong types.
      // (Written as text: JSON.stringify itself cannot go that deep.)
      let contains = `[{"system":"${SCT}","code":"deepest"}]`;
      for (let i = 0; i < 5000; i++) contains = `[{"system":"${SCT}","code":"level-${i}","contains":${contains}}]`;
      return json(200, `{"resourceType":"ValueSet","expansion":{"total":"many","contains":[{"system":1,"code":{}},"x",null,${contains.slice(1, -1)}]}}`);
    }
    case 'slow':
      held.push(res); // never answered
      return;
    case 'error':
      return json(500, { resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception', diagnostics: 'boom' }] });
    case 'unauthorised':
      return json(401, { resourceType: 'OperationOutcome', issue: [] });
    case 'unknown':
      return json(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'Unknown code system\nhttp://snomed.info/sct' }] });
    default:
      return json(404, 'no');
  }
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (mode: string, maxAnswerBytes = 64 * 1024) => new RemoteTerminology({ url: `${origin}/${mode}`, timeoutMs: 500, maxAnswerBytes, systems: [SCT] });

async function failure(mode: string, ask: (c: RemoteTerminology) => Promise<unknown>): Promise<string> {
  const c = client(mode);
  try {
    await ask(c);
    throw new Error(`${mode}: no failure`);
  } catch (err) {
    expect(err).toBeInstanceOf(TerminologyUnavailable);
    return (err as Error).message;
  } finally {
    await c.close();
  }
}

describe('the terminology client, with a server that misbehaves', () => {
  it('every kind of bad answer is "unavailable", saying why', async () => {
    const check = (c: RemoteTerminology) => c.validateCode(SCT, CODES.type2);
    expect(await failure('malformed', check)).toContain('its answer was not FHIR JSON');
    expect(await failure('html', check)).toContain('its answer was not FHIR JSON (text/html)');
    expect(await failure('not-parameters', check)).toContain('its answer was not a Parameters');
    expect(await failure('no-result', check)).toContain('had no result');
    expect(await failure('huge', check)).toContain('larger than this server accepts');
    expect(await failure('slow', check)).toContain('no answer within 500 ms');
    expect(await failure('error', check)).toContain('it answered HTTP 500');
    expect(await failure('unauthorised', check)).toContain('it answered HTTP 401 (it needs credentials');
    expect(await failure('good', (c) => c.expand('http://example.org/vs', 10))).toContain('its answer was not a ValueSet');
  });

  it('a 4xx OperationOutcome is an answer (the server cannot answer that), its text cleaned', async () => {
    const c = client('unknown');
    expect(await c.validateCode(SCT, CODES.type2)).toEqual({ answered: false, message: 'HTTP 404: Unknown code system http://snomed.info/sct' });
    await c.close();
  });

  it('answers are cached, and the text of an answer is stripped of control characters', async () => {
    const c = client('good');
    const before = calls.get('good') ?? 0;
    const first = await c.validateCode(SCT, CODES.type1);
    const again = await Promise.all([c.validateCode(SCT, CODES.type1), c.validateCode(SCT, CODES.type1)]);
    expect(first).toEqual({ answered: true, result: true, display: 'Fine [31m' });
    expect(again).toEqual([first, first]);
    expect(calls.get('good')! - before).toBe(1);
    await c.validateCode(SCT, CODES.asthma);
    expect(calls.get('good')! - before).toBe(2);
    await c.close();
  });

  it('a deeply nested or ill-typed expansion is read to a bounded depth, keeping only well-formed codes', async () => {
    const c = client('deep', 1024 * 1024);
    const answer = await c.expand('http://example.org/vs', 10);
    expect(answer.answered).toBe(true);
    if (!answer.answered) return;
    expect(answer.total).toBeUndefined();
    expect(answer.codes.length).toBeGreaterThan(0);
    expect(answer.codes.length).toBeLessThanOrEqual(22);
    expect(answer.codes.every((x) => x.system === SCT && x.code.startsWith('level-'))).toBe(true);
    await c.close();
  });

  it('after a failure the server is not asked again for a while: the next question fails at once', async () => {
    const c = client('error');
    const before = calls.get('error') ?? 0;
    await expect(c.validateCode(SCT, CODES.type2)).rejects.toThrow(TerminologyUnavailable);
    await expect(c.validateCode(SCT, CODES.type1)).rejects.toThrow(/it is asked again from/);
    expect(calls.get('error')! - before).toBe(1);
    await c.close();
  });

  it('refuses a URL with credentials, a query, or another scheme', () => {
    expect(() => new RemoteTerminology({ url: 'http://user:secret@example.org/fhir' })).toThrow(/must not carry credentials/);
    expect(() => new RemoteTerminology({ url: 'http://example.org/fhir?x=1' })).toThrow(/without a query/);
    expect(() => new RemoteTerminology({ url: 'ftp://example.org/fhir' })).toThrow(/http or https/);
  });
});

describe('what the server makes of a misbehaving terminology server', () => {
  const plan = (relation: 'below' | 'in', value: Record<string, string>): SearchPlan =>
    ({ types: ['Observation'], where: [{ kind: 'token-set', param: 'code', relation, values: [value] }], sort: [], count: 10, offset: 0, total: false }) as unknown as SearchPlan;

  it('search: a 503 OperationOutcome with Retry-After, never a 500', async () => {
    for (const mode of ['malformed', 'slow', 'huge', 'error']) {
      const c = client(mode);
      const err = await expandTerminology(plan('below', { system: SCT, code: CODES.diabetes }), c).catch((e: unknown) => e);
      expect(err, mode).toBeInstanceOf(FhirError);
      expect((err as FhirError).status).toBe(503);
      expect((err as FhirError).headers['Retry-After']).toMatch(/^\d+$/);
      expect((err as FhirError).issues[0]!.diagnostics).toContain(`the terminology server ${origin}/${mode} is unavailable`);
      await c.close();
    }
  });

  it('validation: a warning at the coding, never an error', async () => {
    const c = client('malformed');
    const issues = await validateResourceWith({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: SCT, code: CODES.type2, display: 'Type 2 diabetes mellitus' }] } }, { source: careConnectCatalogue().source }, c);
    expect(issues).toEqual([expect.objectContaining({ severity: 'warning', code: 'transient', expression: ['Observation.code.coding[0].code'] })]);
    await c.close();
  });
});
