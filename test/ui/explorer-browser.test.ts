import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '../helpers/browser.js';
import type { ListeningServer } from '../helpers/listen.js';
import { type Driver, type Explorer, openExplorer } from './driver.js';

const BERNIE_NHS = '9876543210';

/**
 * The explorer in Debian's Chromium against a listening server with the demo
 * data: what a person does, page by page, with axe-core and a screenshot on each.
 */
describe.skipIf(!chromiumAvailable())('web explorer in a browser', () => {
  let explorer: Explorer;
  let server: ListeningServer;
  let page: Page;
  let ui: Driver;
  let origin: string;
  let requests: string[];
  let pageErrors: string[];

  beforeAll(async () => {
    explorer = await openExplorer();
    ({ server, page, ui, origin, pageErrors } = explorer);
    requests = [];
    page.on('request', (r) => requests.push(r.url()));
  }, 180_000);
  afterAll(async () => explorer?.close());

  it('home: both bases and live counts per type', async () => {
    await ui.open('/');
    await page.locator('[data-count="Patient"]').waitFor();
    expect(await page.locator('[data-base="open"]').textContent()).toBe(server.baseUrl);
    const apiCount = (await (await fetch(`${server.baseUrl}/Patient?_summary=count`, { headers: { accept: 'application/fhir+json' } })).json()).total;
    expect(await page.locator('[data-count="Patient"]').textContent()).toBe(apiCount.toLocaleString('en-GB'));
    await ui.check('01-home');
  });

  it('finds Bernie Kanfeld by NHS number, checking it as it is typed, then by name', async () => {
    await ui.open('/patients');
    const nhs = page.locator('#nhs');
    await nhs.pressSequentially('987654321');
    expect(await nhs.inputValue()).toBe('987 654 321');
    expect(await page.locator('#nhs-message').getAttribute('data-state')).toBe('incomplete');
    await nhs.press('1');
    expect(await page.locator('#nhs-message').getAttribute('data-state')).toBe('invalid');
    await nhs.press('Backspace');
    await nhs.press('0');
    expect(await nhs.inputValue()).toBe('987 654 3210');
    expect(await page.locator('#nhs-message').getAttribute('data-state')).toBe('valid');
    await ui.follow(page.getByRole('button', { name: 'Search' }));
    expect(await page.locator('#patient-results a[data-patient]').allTextContents()).toEqual([expect.stringContaining('Bernie Kanfeld')]);
    await ui.check('02-patient-search');

    await page.locator('#nhs').fill('');
    await page.locator('#name').fill('kanfeld');
    await ui.follow(page.getByRole('button', { name: 'Search' }));
    expect(page.url()).toContain('name=kanfeld');
    expect(await page.locator('#patient-results a[data-patient]').allTextContents()).toEqual([expect.stringContaining('Bernie Kanfeld')]);
  });

  it('opens his record: the banner shows his NHS number and a vital-signs chart has points', async () => {
    await ui.follow(page.locator('#patient-results a[data-patient]').first());
    expect(await page.locator('[data-nhs-number]').textContent()).toBe('987 654 3210');
    expect(await page.locator('[data-nhs-number]').getAttribute('data-nhs-number')).toBe(BERNIE_NHS);
    const charts = page.locator('#vital-charts figure[data-points]');
    await charts.first().locator('canvas').waitFor();
    expect(await charts.count()).toBeGreaterThan(0);
    expect(Number(await charts.first().getAttribute('data-points'))).toBeGreaterThan(0);
    // Points drawn, not just promised: the plot's canvas holds pixels of the series colour (#005eb8).
    await page.waitForFunction(() => {
      const c = document.querySelector<HTMLCanvasElement>('#vital-charts figure canvas');
      const g = c?.getContext('2d');
      if (!c || !g) return false;
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let blue = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! < 20 && Math.abs(d[i + 1]! - 94) < 20 && Math.abs(d[i + 2]! - 184) < 20 && d[i + 3]! > 200) blue++;
      return blue > 10;
    });
    expect(await page.locator('#card-problems li').count()).toBeGreaterThan(0);
    expect(await page.locator('#encounter-timeline li').count()).toBeGreaterThan(0);
    await ui.check('03-patient-record');
  });

  it('opens an Observation from the record, switches to XML, follows a reference and validates', async () => {
    await ui.follow(page.locator('#observation-table a[data-observation]').first());
    expect(page.url()).toMatch(/\/resources\/Observation\//);
    expect(await page.locator('#profile-badges').textContent()).toContain('CareConnect-Observation-1');
    // The generated narrative, as text.
    const id = new URL(page.url()).pathname.split('/').pop();
    const observation = await (await fetch(`${server.baseUrl}/Observation/${id}`, { headers: { accept: 'application/fhir+json' } })).json();
    if (observation.text?.div) expect((await page.locator('#narrative').textContent())!.length).toBeGreaterThan(0);
    else expect(await page.locator('#narrative').count()).toBe(0);
    await ui.check('04-resource-json');
    await ui.follow(page.locator('a[data-view="xml"]'));
    const xml = page.locator('#resource-body pre');
    expect(await xml.textContent()).toContain('<Observation xmlns="http://hl7.org/fhir">');
    await ui.check('05-resource-xml');
    await page.locator('#validate-button').click();
    await page.locator('#validation-result').waitFor();
    expect(await page.locator('#validation-result').getAttribute('data-valid')).toBe('true');

    const subject = xml.locator('a[data-reference^="Patient/"]').first();
    const ref = await subject.getAttribute('data-reference');
    await ui.follow(subject);
    expect(new URL(page.url()).pathname).toBe(`/resources/${ref}`);
    await page.locator('#validate-button').click();
    await page.locator('#validation-result').waitFor();
    expect(await page.locator('#validation-result').getAttribute('data-valid')).toBe('true');
    expect(await page.locator('#validation-result').textContent()).toContain('0 errors');
    await ui.check('06-resource-validated');
  });

  it('shows the version history with a diff between two versions', async () => {
    const url = `${server.baseUrl}/Observation?patient=1&_count=1`;
    const obs = (await (await fetch(url, { headers: { accept: 'application/fhir+json' } })).json()).entry[0].resource;
    const put = await fetch(`${server.baseUrl}/Observation/${obs.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...obs, status: 'amended' }) });
    expect(put.status).toBe(200);
    await ui.open(`/resources/Observation/${obs.id}?view=history`);
    expect(await page.locator('#history-table tbody tr').count()).toBe(2);
    await page.getByRole('button', { name: 'Compare versions' }).click();
    const diff = page.locator('.ccri-diff');
    await diff.waitFor();
    expect(await diff.getAttribute('data-changes')).toBe('2');
    expect(await diff.locator('del').textContent()).toContain('"status": "final"');
    expect(await diff.locator('ins').textContent()).toContain('"status": "amended"');
    await ui.check('07-resource-history');
  });

  it('says a deleted resource was deleted and still shows its versions; a deleted patient’s record links to them', async () => {
    const json = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
    const created = await fetch(`${server.baseUrl}/Patient`, { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Gonefield', given: ['Ada'] }] }) });
    expect(created.status).toBe(201);
    const patient = await created.json();
    expect((await fetch(`${server.baseUrl}/Patient/${patient.id}`, { method: 'PUT', headers: json, body: JSON.stringify({ ...patient, gender: 'female' }) })).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/Patient/${patient.id}`, { method: 'DELETE' })).status).toBe(204);
    const said = (await (await fetch(`${server.baseUrl}/Patient/${patient.id}`)).json()).issue[0].diagnostics;

    await ui.open(`/resources/Patient/${patient.id}`);
    const error = page.locator('[data-api-error="410"]');
    await error.waitFor();
    expect(await error.locator('.ccri-error-text').first().textContent()).toBe(said);
    expect(await error.locator('h2').textContent()).toBe('This resource was deleted');
    const rows = page.locator('#history-table tbody tr');
    await rows.first().waitFor();
    // Newest first: the deletion (version 3, with its time), the update, the creation.
    expect(await rows.count()).toBe(3);
    const deletion = await rows.first().locator('td, th').allTextContents();
    expect(deletion[0]).toBe('3');
    expect(deletion[1]).not.toBe('');
    expect(deletion[2]).toBe('deleted');
    await page.getByRole('button', { name: 'Compare versions' }).click();
    const diff = page.locator('.ccri-diff');
    await diff.waitFor();
    expect((await diff.locator('ins').allTextContents()).join('\n')).toContain('"gender": "female"');
    await ui.check('07b-deleted-resource');

    await ui.open(`/patients/${patient.id}`);
    await page.locator('[data-api-error="410"]').waitFor();
    await ui.follow(page.locator('#deleted-history'));
    expect(new URL(page.url()).pathname).toBe(`/resources/Patient/${patient.id}`);
    await rows.first().waitFor();
    expect(await rows.count()).toBe(3);

    // A patient never known is a 404 in the server's words, with no link to versions.
    await ui.open('/patients/no-such-patient');
    await page.locator('[data-api-error="404"]').waitFor();
    expect(await page.locator('#deleted-history').count()).toBe(0);
  });

  it('shows flags, reports and documents when a record has them, and no empty boxes when it has none', async () => {
    // Bernie's record, as the API holds it: every active flag and every report or document is on the page.
    const total = async (query: string) => (await (await fetch(`${server.baseUrl}/${query}&_summary=count`, { headers: { accept: 'application/fhir+json' } })).json()).total as number;
    const flagBundle = await (await fetch(`${server.baseUrl}/Flag?patient=1&_count=100`, { headers: { accept: 'application/fhir+json' } })).json();
    const flags = (flagBundle.entry ?? []).filter((e: { resource: { status: string } }) => e.resource.status === 'active').length;
    const documents = (await total('DiagnosticReport?patient=1')) + (await total('Composition?patient=1')) + (await total('DocumentReference?patient=1'));
    await ui.open('/patients/1');
    expect(await page.locator('#flags li').count()).toBe(flags);
    expect(await page.locator('#card-documents li').count()).toBe(documents);
    if (flags + documents) await ui.check('07b-patient-record-documents');

    // A new patient with nothing recorded: the cards say so, and there is no flag box or documents card.
    const created = await fetch(`${server.baseUrl}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=representation' }, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Empty', given: ['Record'] }], gender: 'unknown' }) });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: string }).id;
    await ui.open(`/patients/${id}`);
    expect(await page.locator('.ccri-banner__name').textContent()).toBe('EMPTY, Record');
    expect(await page.locator('#flags, #card-documents').count()).toBe(0);
    expect(await page.locator('#card-problems').textContent()).toContain('No problems recorded');
    expect(await page.locator('#vital-charts').count()).toBe(0);
  });

  it('browses three types, and the URL it shows answers the same entries when fetched directly', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['Patient', { gender: 'female' }],
      ['Observation', { patient: '1' }],
      ['Organization', { name: 'mo' }],
    ];
    for (const [type, fields] of cases) {
      await ui.open(`/browse/${type}`);
      for (const [name, value] of Object.entries(fields)) {
        const input = page.locator(`input[name="${name}"]`);
        if (!(await input.isVisible())) await page.locator('details summary').first().click();
        await input.fill(value);
      }
      await ui.follow(page.getByRole('button', { name: 'Search' }));
      await expectShownUrlMatches(page, type);
      if (type === 'Patient') {
        await ui.check('08-browse');
        await ui.follow(page.locator('a[rel="next"]'));
        await expectShownUrlMatches(page, type);
      }
    }
    await ui.open('/browse');
    expect(await page.locator('#type-table tbody tr').count()).toBeGreaterThan(100);
    await ui.check('09-browse-types');
  });

  it('validates pasted JSON against a chosen profile and lists the issues with their paths', async () => {
    await ui.open('/validate');
    await page.locator('#resource-text').fill(JSON.stringify({ resourceType: 'Patient', gender: 'unknown-gender', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '1234567890' }] }));
    await page.locator('#profile').selectOption('https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1');
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.locator('#issues-table').waitFor();
    expect(await page.locator('#validation-result').getAttribute('data-valid')).toBe('false');
    const paths = await page.locator('#issues-table tbody tr td:nth-child(2)').allTextContents();
    expect(paths.some((p) => p.startsWith('Patient.'))).toBe(true);
    await ui.check('10-validate');
  });

  it('shows each profile as an element tree, with slices, extensions, bindings and an example', async () => {
    await ui.open('/profiles');
    await ui.check('11-profiles');
    await ui.follow(page.getByRole('link', { name: /Care Connect Patient/ }).first());
    const tree = page.locator('#element-tree');
    expect(await tree.textContent()).toContain('identifier:nhsNumber');
    expect(await tree.locator('.nhsuk-tag', { hasText: 'extension' }).count()).toBeGreaterThan(3);
    expect(await tree.locator('.nhsuk-tag', { hasText: 'required' }).count()).toBeGreaterThan(0);
    const example = page.locator('[data-example]');
    await example.waitFor();
    expect(await example.getAttribute('data-example')).toMatch(/^Patient\//);
    await ui.check('12-profile');
    // A profile badge links by canonical URL; the page finds the StructureDefinition that has it.
    await ui.open(`/profiles?url=${encodeURIComponent('https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Observation-1')}`);
    expect(new URL(page.url()).pathname).toBe('/profiles/CareConnect-Observation-1');
    expect(await page.locator('#element-tree').textContent()).toContain('value[x]');
  });

  it('documents the API with Swagger UI: every type the CapabilityStatement has, and a working "try it"', async () => {
    const cs = await (await fetch(`${server.baseUrl}/metadata`, { headers: { accept: 'application/fhir+json' } })).json();
    const doc = await (await fetch(`${origin}/openapi.json`)).json();
    const types: string[] = cs.rest[0].resource.map((r: { type: string }) => r.type).sort();
    expect(doc.tags.map((t: { name: string }) => t.name).filter((n: string) => n !== 'System').sort()).toEqual(types);
    await ui.open('/api');
    await page.locator('#swagger-ui[data-loaded="true"]').waitFor();
    expect(await page.locator('.opblock-tag-section').count()).toBe(types.length + 1);
    await ui.check('13-api-docs');
    // Try it: read Patient/1 from this server through the docs page.
    await page.locator('.opblock-tag-section h3[data-tag="Patient"]').click();
    const read = page.locator('#operations-Patient-read-Patient');
    await read.locator('.opblock-summary').click();
    await read.getByRole('button', { name: 'Try it out' }).click();
    await read.locator('input[placeholder="id"]').fill('1');
    await read.getByRole('button', { name: 'Execute' }).click();
    await read.locator('.live-responses-table tbody .response-col_status').first().waitFor();
    expect(await read.locator('.live-responses-table tbody .response-col_status').first().textContent()).toContain('200');
    expect(await read.locator('.live-responses-table .microlight').first().textContent()).toContain('Kanfeld');
  });

  it('shows an API error as the OperationOutcome’s text, and unknown pages as not found', async () => {
    await ui.open('/resources/Patient/no-such-patient');
    const error = page.locator('[data-api-error="404"]');
    await error.waitFor();
    const expected = (await (await fetch(`${server.baseUrl}/Patient/no-such-patient`)).json()).issue[0].diagnostics;
    expect(await error.locator('.ccri-error-text').first().textContent()).toBe(expected);
    await ui.check('14-api-error');
    await ui.open('/no/such/page');
    expect(await page.locator('h1').textContent()).toBe('Page not found');
    await ui.check('15-not-found');
  });

  it('works from the keyboard: skip link, sign-in, then the menu', async () => {
    await ui.open('/');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to main content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    // The header's account area comes before the menu (docs/explorer.md, "Signed-in use").
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign in');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Patients');
    await ui.press('Enter');
    expect(new URL(page.url()).pathname).toBe('/patients');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
  });

  it('is usable at a phone’s width', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    for (const [path, name] of [['/patients/1', '16-phone-record'], ['/browse/Patient?family=kanfeld', '17-phone-browse'], ['/', '18-phone-home']] as const) {
      await ui.open(path);
      await page.waitForTimeout(100);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(375);
      await ui.check(name);
    }
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  it('asked nothing of any other server, and raised no script error', () => {
    expect(requests.length).toBeGreaterThan(50);
    expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

/** The table's rows are exactly the entries the shown FHIR URL returns when fetched by anyone. */
async function expectShownUrlMatches(page: Page, type: string): Promise<void> {
  const url = (await page.locator('[data-fhir-url]').textContent())!;
  expect(url).toContain(`/${type}`);
  const bundle = await (await fetch(url, { headers: { accept: 'application/fhir+json' } })).json();
  const direct = (bundle.entry ?? []).map((e: { resource: { resourceType: string; id: string } }) => `${e.resource.resourceType}/${e.resource.id}`);
  expect(direct.length).toBeGreaterThan(0);
  expect(await page.locator('#browse-table a[data-entry]').evaluateAll((as) => as.map((a) => a.getAttribute('data-entry')))).toEqual(direct);
}
