import { execFileSync } from 'node:child_process';
import * as oidc from 'openid-client';
import { Browser, signIn } from '../test/helpers/sign-in.js';
import { machine, measure, type Measured, startCcri, table, tempFolder } from './lib.js';

/**
 * Issue 10: what the secure API costs. One `ccri serve` on SQLite with seeded data, both
 * bases; the tokens are real ones, got as an app gets them (standalone launch with PKCE,
 * signing in and consenting over HTTP). Measured in alternating rounds, in one run:
 *   - read by id on the secure base (a clinician's user/ token, and a patient's own
 *     record under a patient/ token) against the same read on the open base (target: at
 *     least 80%);
 *   - a patient-scoped search under that patient's patient/ token against the same
 *     search on the open base (target: p99 at most 1.5 times).
 * Audit is off in both, so that what is measured is the secure API's own cost (verifying
 * the token, checking the scopes, narrowing the query); audit's cost is `bench -- audit`.
 */
const ROUNDS = 5;
const PATIENTS = 200;
const PASSWORD = 'bench-password-1';
const REDIRECT = 'http://127.0.0.1:9/callback';

function ccri(dir: string, args: string[]): string {
  return execFileSync(process.execPath, ['dist/cli/main.js', ...args], { env: { ...process.env, CCRI_DATA_DIR: dir, CCRI_LOG_LEVEL: 'warn' }, encoding: 'utf8' });
}

/** An access token for `username`, by a standalone launch of the public app `clientId`. */
async function token(origin: string, clientId: string, scope: string, username: string, patient?: string): Promise<string> {
  const config = await oidc.discovery(new URL(`${origin}/auth`), clientId, { token_endpoint_auth_method: 'none' }, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope,
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    aud: `${origin}/secure/STU3`,
  });
  const { page } = await signIn(new Browser(origin), url.href, { username, password: PASSWORD, ...(patient ? { patient } : {}) });
  if (!page.url.startsWith(REDIRECT)) throw new Error(`the launch ended at ${page.url} (${page.status}), not the app's redirect`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: state });
  return tokens.access_token;
}

export async function secureBench(duration = 10): Promise<string> {
  const folder = tempFolder('ccri-bench-secure-');
  const dir = folder.path;
  ccri(dir, ['seed', '--patients', String(PATIENTS), '--seed', '7']);
  const server = await startCcri({ CCRI_DATA_DIR: dir, CCRI_DEMO_DATA: 'false', CCRI_AUDIT: 'off' });
  try {
    const origin = `http://127.0.0.1:${server.port}`;
    const open = `${origin}/STU3`;
    const secure = `${origin}/secure/STU3`;
    // A patient with observations, and the users and the app that will ask for tokens.
    const first = (await (await fetch(`${open}/Observation?_count=1`)).json()) as { entry?: Array<{ resource: { subject?: { reference?: string } } }> };
    const patient = first.entry?.[0]?.resource.subject?.reference?.split('/')[1];
    if (!patient) throw new Error('the seeded data has no Observation with a subject');
    ccri(dir, ['user', 'add', '--username', 'bench-clinician', '--password', PASSWORD]);
    ccri(dir, ['user', 'add', '--username', 'bench-patient', '--password', PASSWORD, '--patient', patient]);
    const app = JSON.parse(ccri(dir, ['client', 'add', '--name', 'Bench', '--grant', 'authorization_code', '--public', '--redirect-uri', REDIRECT, '--scope', 'launch/patient openid fhirUser user/*.read patient/*.read'])) as { client_id: string };
    // The server names itself by its configured base URL (http://localhost:<port>): the launch goes there.
    const named = new URL(((await (await fetch(`${origin}/auth/.well-known/openid-configuration`)).json()) as { issuer: string }).issuer).origin;
    const userToken = await token(named, app.client_id, 'openid fhirUser user/*.read', 'bench-clinician');
    const patientToken = await token(named, app.client_id, 'launch/patient patient/*.read', 'bench-patient', patient);
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

    const read = `/Patient/${patient}`;
    const search = `/Observation?patient=${patient}&_count=10`;
    // Each target answers 200 with the same resource before it is measured.
    for (const [url, headers] of [[`${open}${read}`, {}], [`${secure}${read}`, bearer(userToken)], [`${secure}${read}`, bearer(patientToken)], [`${open}${search}`, {}], [`${secure}${search}`, bearer(patientToken)]] as const) {
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
      await measure('warm-up', url, { duration: 2, headers });
    }
    const rows: Measured[] = [];
    const userRatios: number[] = [];
    const patientRatios: number[] = [];
    const searchRatios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const rOpen = await measure(`read by id, open base, round ${round}`, `${open}${read}`, { duration });
      const rUser = await measure(`read by id, secure base, user/*.read token, round ${round}`, `${secure}${read}`, { duration, headers: bearer(userToken) });
      const rPatient = await measure(`read by id, secure base, the patient's patient/*.read token, round ${round}`, `${secure}${read}`, { duration, headers: bearer(patientToken) });
      const sOpen = await measure(`search, open base, round ${round}`, `${open}${search}`, { duration });
      const sPatient = await measure(`search, secure base, patient/*.read token, round ${round}`, `${secure}${search}`, { duration, headers: bearer(patientToken) });
      rows.push(rOpen, rUser, rPatient, sOpen, sPatient);
      userRatios.push(rUser.requestsPerSecond / rOpen.requestsPerSecond);
      patientRatios.push(rPatient.requestsPerSecond / rOpen.requestsPerSecond);
      searchRatios.push(sPatient.p99 / Math.max(sOpen.p99, 1));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const pct = (xs: number[]) => xs.map((r) => `${(r * 100).toFixed(0)}%`).join(', ');
    return [
      `### Secure API (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. One server on SQLite, ${PATIENTS} seeded patients, audit off, both bases; tokens from a standalone launch (PKCE, sign-in and consent over HTTP). autocannon, 10 connections, ${duration} s per target, ${ROUNDS} alternating rounds. Read: \`GET Patient/{id}\`; search: \`GET Observation?patient={id}&_count=10\`.`,
      '',
      table(rows),
      '',
      `Read by id, secure ÷ open, user/ token: ${pct(userRatios)}; median **${(median(userRatios) * 100).toFixed(0)}%**; patient/ token: ${pct(patientRatios)}; median **${(median(patientRatios) * 100).toFixed(0)}%** (target ≥ 80%).`,
      `Patient-scoped search p99, secure ÷ open: ${searchRatios.map((r) => `${r.toFixed(2)}×`).join(', ')}; median **${median(searchRatios).toFixed(2)}×** (target ≤ 1.5×).`,
    ].join('\n');
  } finally {
    await server.stop();
    folder.remove();
  }
}
