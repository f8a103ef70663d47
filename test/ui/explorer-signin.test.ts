import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable } from '../helpers/browser.js';
import type { ListeningServer } from '../helpers/listen.js';
import { type Driver, type Explorer, openExplorer } from './driver.js';

const BERNIE_NHS = '9876543210';

/**
 * Signed-in use of the explorer (issue 12, point 9) in Debian's Chromium, against a
 * listening server with the demo data: the clinician signs in through the server's real
 * sign-in and consent pages, reads Bernie Kanfeld's record through the secure base, and
 * finds that access, under her name, in the audit view.
 */
describe.skipIf(!chromiumAvailable())('web explorer, signed in', () => {
  let explorer: Explorer;
  let server: ListeningServer;
  let page: Page;
  let ui: Driver;
  let origin: string;
  let secureBase: string;
  let password: string;
  let requests: Request[];
  let pageErrors: string[];

  beforeAll(async () => {
    explorer = await openExplorer();
    ({ server, page, ui, origin, requests, pageErrors } = explorer);
    secureBase = `${origin}/secure/STU3`;
    // The demo users' passwords, shown once at the first start (`ccri serve` prints them).
    password = server.demoUsers.find((u) => u.username === 'clinician')!.password;
  }, 180_000);
  afterAll(async () => explorer?.close());

  /** The access token the explorer holds (in this tab's sessionStorage), as a test reads it to check the server's side. */
  const token = async (): Promise<string | undefined> => page.evaluate(() => (JSON.parse(sessionStorage.getItem('ccri-session') ?? 'null') as { accessToken?: string } | null)?.accessToken);
  const secureGet = async (path: string, bearer: string | undefined) => fetch(path.startsWith('http') ? path : `${secureBase}/${path}`, { headers: { accept: 'application/fhir+json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) } });

  /** After the authorization server sends the browser back, the explorer finishes and loads `path` afresh. */
  async function landsOn(path: string): Promise<void> {
    await page.waitForURL(`${origin}${path}`);
    await page.waitForFunction(() => document.getElementById('maincontent')?.getAttribute('data-ready') !== null && !location.pathname.startsWith('/sign-in'));
  }

  it('offers to sign in, and says what signing in does', async () => {
    await ui.open('/');
    expect(await page.locator('[data-calling]').getAttribute('data-calling')).toBe('open');
    expect(await page.locator('#sign-out').count()).toBe(0);
    expect(await page.locator('#ccri-nav-audit').count()).toBe(0);
    await ui.follow(page.locator('#sign-in-link'));
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await page.locator('#kind-staff').isChecked()).toBe(true);
    expect(await page.locator('#audit').isChecked()).toBe(true);
    await ui.check('20-sign-in');
  });

  it('signs the clinician in through the server’s real sign-in and consent pages (PKCE, state)', async () => {
    await page.locator('#sign-in-button').click();
    await page.waitForURL(/\/auth\/interaction\//);
    expect(await page.locator('h1').textContent()).toBe('Sign in');
    expect(await page.locator('main').textContent()).toContain('Care Connect explorer');
    // The authorization request the explorer made: its own client, PKCE with S256, a state, the secure base as audience.
    const authorize = new URL(requests.map((r) => r.url()).find((u) => u.startsWith(`${origin}/auth/authorize?`))!);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({ client_id: 'ccri-explorer', response_type: 'code', code_challenge_method: 'S256', aud: secureBase, redirect_uri: `${origin}/sign-in/callback` });
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')!.length).toBeGreaterThanOrEqual(22);
    expect(authorize.searchParams.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'fhirUser', 'user/*.read', 'user/AuditEvent.read']));
    await ui.check('21-auth-sign-in');

    await page.locator('#username').fill('clinician');
    await page.locator('#password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('text=Allow access?');
    expect(await page.locator('main').textContent()).toContain('Read AuditEvent records of every patient you can see');
    await ui.check('22-auth-consent');
    await page.getByRole('button', { name: 'Allow' }).click();
    await landsOn('/');

    // Who is signed in, and that the pages now call the secure base.
    expect(await page.locator('#ccri-account').textContent()).toContain('Dr Helen Marsden (clinician)');
    expect(await page.locator('#sign-out').isVisible()).toBe(true);
    expect(await page.locator('[data-calling]').getAttribute('data-calling')).toBe('secure');
    await page.locator('[data-count="Patient"]').waitFor();
    // The code was exchanged with the verifier; the callback's code and state are gone from the address bar and history.
    const exchange = requests.find((r) => r.url() === `${origin}/auth/token`)!;
    expect(new URLSearchParams(exchange.postData() ?? '').get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(page.url()).toBe(`${origin}/`);
    // Kept in this tab's sessionStorage, never in localStorage.
    expect(await token()).toMatch(/^eyJ/);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await ui.check('23-home-signed-in');
  });

  it('reads Bernie Kanfeld’s record through the secure base, with the bearer token', async () => {
    const from = requests.length;
    await ui.open(`/patients?nhs=${BERNIE_NHS}`);
    await ui.follow(page.locator('#patient-results a[data-patient]').first());
    expect(await page.locator('[data-nhs-number]').getAttribute('data-nhs-number')).toBe(BERNIE_NHS);
    expect(await page.locator('#card-problems li').count()).toBeGreaterThan(0);
    const apiCalls = requests.slice(from).filter((r) => r.url().startsWith(`${origin}/STU3`) || r.url().startsWith(secureBase));
    expect(apiCalls.length).toBeGreaterThan(2);
    // Everything went to the secure base, with the token; nothing to the open base.
    expect(apiCalls.filter((r) => !r.url().startsWith(`${secureBase}/`))).toEqual([]);
    for (const r of apiCalls) expect((await r.allHeaders()).authorization).toBe(`Bearer ${await token()}`);
    expect(apiCalls.some((r) => r.url().startsWith(`${secureBase}/Patient?_id=1&`))).toBe(true);
    await ui.check('24-record-signed-in');
  });

  it('shows that access in the audit view, under the clinician’s name, filtered by patient', async () => {
    expect(await page.locator('#ccri-nav-audit').isVisible()).toBe(true);
    await ui.follow(page.locator('#ccri-nav-audit a'));
    expect(new URL(page.url()).pathname).toBe('/audit');
    await page.locator('#patient').fill('987 654 3210');
    await ui.follow(page.getByRole('button', { name: 'Filter' }));
    expect(new URL(page.url()).searchParams.get('patient')).toBe('987 654 3210');
    // The search the page made, on the secure base, for events naming Bernie by her NHS number.
    const shown = (await page.locator('[data-fhir-url]').textContent())!;
    expect(shown.startsWith(`${secureBase}/AuditEvent?`)).toBe(true);
    expect(new URL(shown).searchParams.get('entity-id')).toBe(`https://fhir.nhs.uk/Id/nhs-number|${BERNIE_NHS}`);

    // The record page's own search (Patient?_id=1&_include…&_revinclude…): by the clinician, named, allowed.
    const row = page.locator('#audit-table tbody tr', { has: page.locator('code', { hasText: 'GET Patient?_id=1&' }) }).first();
    await row.waitFor();
    expect(await row.locator('[data-user-name]').textContent()).toBe('Dr Helen Marsden');
    expect(await row.locator('[data-user]').getAttribute('data-user')).toBe('clinician');
    expect(await row.locator('[data-user]').textContent()).toContain('via Care Connect explorer');
    expect(await row.locator('[data-audit-patient]').first().getAttribute('data-audit-patient')).toBe('1');
    expect(await row.locator('[data-outcome]').getAttribute('data-outcome')).toBe('success');
    // The same event, read from the API directly: it is what the row says.
    const id = (await row.getAttribute('data-event'))!;
    const event = await (await secureGet(`AuditEvent/${id}`, await token())).json();
    expect(event.agent[0].userId.value).toBe('clinician');
    expect(event.entity.some((e: { reference?: { reference?: string }; identifier?: { value?: string } }) => e.reference?.reference === 'Patient/1' && e.identifier?.value === BERNIE_NHS)).toBe(true);
    // Every row is about Bernie.
    for (const ids of await page.locator('#audit-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('[data-audit-patient]')].map((a) => a.getAttribute('data-audit-patient'))))) expect(ids).toContain('1');
    await ui.check('25-audit');
  });

  it('filters by user, day and outcome, and pages through the API’s own links', async () => {
    // A refused request: a resource that does not exist (404, outcome 4).
    await ui.open('/resources/Patient/no-such-patient');
    await page.locator('[data-api-error="404"]').waitFor();
    const today = new Date().toISOString().slice(0, 10);
    await ui.open(`/audit?events=all&user=clinician&from=${today}&to=${today}&outcome=failure`);
    expect(await page.locator('#audit-table tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#audit-table [data-outcome]').evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')))).not.toContain('success');
    expect(await page.locator('#audit-table').textContent()).toContain('Patient/no-such-patient');
    // Yesterday: nothing.
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await ui.open(`/audit?events=all&user=clinician&to=${yesterday}`);
    expect(await page.locator('#audit-empty').count()).toBe(1);

    // Every event of the clinician's (the home page's counts alone are more than a page): two pages, no event twice.
    await ui.open('/audit?events=all&user=clinician');
    const first = await page.locator('#audit-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event')));
    expect(first).toHaveLength(20);
    const next = page.locator('a[rel="next"]');
    expect(decodeURIComponent((await next.getAttribute('href'))!)).toContain(`${secureBase}/AuditEvent?`);
    await ui.follow(next);
    const second = await page.locator('#audit-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event')));
    expect(second.length).toBeGreaterThan(0);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    expect(await page.locator('[data-user]').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-user')))])).toEqual(['clinician']);
  });

  it('shows the OperationOutcome of a 401 and offers to sign in again, which works', async () => {
    // The token is revoked behind the explorer's back (as another tab's sign-out would).
    const revoked = await fetch(`${origin}/auth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: (await token())!, client_id: 'ccri-explorer' }) });
    expect(revoked.status).toBe(200);
    // Each node caches a token's standing for up to a second (docs/security.md).
    await expect.poll(async () => (await secureGet('Patient/1', await token())).status, { timeout: 10_000 }).toBe(401);
    await ui.open('/patients/1');
    const error = page.locator('[data-api-error="401"]');
    await error.waitFor();
    const expected = (await (await secureGet('Patient?_id=1', await token())).json()).issue[0].diagnostics;
    expect(await error.locator('.ccri-error-text').first().textContent()).toBe(expected);
    const offer = error.locator('[data-sign-in-offer="401"]');
    expect(await offer.textContent()).toContain('Your sign-in has ended');
    await ui.check('26-signed-in-401');

    // Signing in again: still signed in at the authorization server, so straight to consent, then back to the record.
    await ui.follow(offer.getByRole('link', { name: 'Sign in again' }));
    expect(new URL(page.url()).searchParams.get('return')).toBe('/patients/1');
    await page.locator('#sign-in-button').click();
    await page.waitForSelector('text=Allow access?');
    await page.getByRole('button', { name: 'Allow' }).click();
    await landsOn('/patients/1');
    expect(await page.locator('[data-nhs-number]').getAttribute('data-nhs-number')).toBe(BERNIE_NHS);
  });

  it('signs out: the token is revoked, the server’s session ends, and the explorer is back on the open base', async () => {
    const before = (await token())!;
    expect((await secureGet('Patient/1', before)).status).toBe(200);
    await page.locator('#sign-out').click();
    await page.waitForSelector('text=Sign out?');
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await landsOn('/');
    expect(await page.locator('#sign-in-link').isVisible()).toBe(true);
    expect(await page.locator('[data-calling]').getAttribute('data-calling')).toBe('open');
    expect(await token()).toBeUndefined();
    await expect.poll(async () => (await secureGet('Patient/1', before)).status, { timeout: 10_000 }).toBe(401);
    await ui.open('/audit');
    expect(await page.locator('#audit-unavailable').count()).toBe(1);
    await ui.check('27-audit-signed-out');
    // The session at the authorization server ended too: signing in asks for the password again.
    await ui.open('/sign-in');
    await page.locator('#sign-in-button').click();
    await page.waitForURL(/\/auth\/interaction\//);
    expect(await page.locator('#password').count()).toBe(1);
  });

  it('signs a patient in to her own record: a 403 without the audit scope, then who looked at her record', async () => {
    const bernie = server.demoUsers.find((u) => u.username === 'bernie')!.password;
    // Still on the authorization server's sign-in page from the last test.
    await ui.open('/sign-in');
    await page.locator('#kind-patient').check();
    await page.locator('#audit').uncheck();
    await page.locator('#sign-in-button').click();
    await page.waitForURL(/\/auth\/interaction\//);
    await page.locator('#username').fill('bernie');
    await page.locator('#password').fill(bernie);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('text=Allow access?');
    expect(await page.locator('main').textContent()).toContain('Patient: Bernie Kanfeld');
    await page.getByRole('button', { name: 'Allow' }).click();
    // A patient's sign-in opens her own record.
    await landsOn('/patients/1');
    expect(await page.locator('#ccri-account').textContent()).toContain('Bernie Kanfeld (bernie)');
    expect(await page.locator('#ccri-nav-audit').count()).toBe(0);
    // Another patient's record does not exist for her token.
    await ui.open('/patients/2');
    await page.locator('[data-api-error]').waitFor();

    // The audit trail without its scope: the API's 403, in its own words, and the way to ask for it.
    await ui.open('/browse/AuditEvent');
    const error = page.locator('[data-api-error="403"]');
    await error.waitFor();
    expect(await error.locator('.ccri-error-text').first().textContent()).toContain('AuditEvent');
    await ui.check('28-patient-403');
    const withoutAudit = (await token())!;
    await ui.follow(error.locator('[data-sign-in-offer="403"]').getByRole('link', { name: 'Sign in again' }));
    expect(await page.locator('#kind-patient').isChecked()).toBe(true);
    await page.locator('#sign-in-button').click();
    await page.waitForSelector('text=Allow access?');
    await page.getByRole('button', { name: 'Allow' }).click();
    await landsOn('/browse/AuditEvent');
    expect(await page.locator('#browse-table').count()).toBe(1);
    // The token it replaced was revoked, not just forgotten.
    await expect.poll(async () => (await secureGet('Patient/1', withoutAudit)).status, { timeout: 10_000 }).toBe(401);

    // Who looked at my record: the clinician, by name, and only events about her.
    await ui.follow(page.locator('#ccri-nav-audit a'));
    expect(await page.locator('#patient').count()).toBe(0);
    const clinicianRows = page.locator('#audit-table tbody tr', { has: page.locator('[data-user="clinician"]') });
    expect(await clinicianRows.count()).toBeGreaterThan(0);
    expect(await clinicianRows.first().locator('[data-user-name]').textContent()).toBe('Dr Helen Marsden');
    for (const ids of await page.locator('#audit-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('[data-audit-patient]')].map((a) => a.getAttribute('data-audit-patient'))))) expect(ids).toEqual(['1']);
    await ui.check('29-patient-audit');
    // At a phone's width the table scrolls in its own region; the page does not widen.
    await page.setViewportSize({ width: 375, height: 800 });
    await ui.open('/audit');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await ui.check('30-phone-audit');
    await page.setViewportSize({ width: 1200, height: 900 });
  });

  it('starts signing in at the configured address when reached at another (localhost for 127.0.0.1)', async () => {
    const other = origin.replace('127.0.0.1', 'localhost');
    await page.goto(`${other}/sign-in?return=${encodeURIComponent('/patients/1')}`);
    await page.waitForFunction(() => document.getElementById('maincontent')?.getAttribute('data-ready') !== null);
    await page.locator('#sign-in-button').click();
    await page.waitForURL(`${origin}/sign-in?return=${encodeURIComponent('/patients/1')}`);
  });

  it('asked nothing of any other server, sent no token to the open base, and raised no script error', async () => {
    const here = [`${origin}/`, `${origin.replace('127.0.0.1', 'localhost')}/`];
    expect(requests.filter((r) => !here.some((h) => r.url().startsWith(h)) && !r.url().startsWith('data:')).map((r) => r.url())).toEqual([]);
    for (const r of requests.filter((x) => x.url().startsWith(`${origin}/STU3`))) expect((await r.allHeaders()).authorization).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });
});
