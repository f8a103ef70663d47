import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AuthStore, Store } from '../../store/store.js';
import { decide, grantedWords, refusedWords } from './consent.js';
import { createLaunch, saveContext, savePick } from './launch-context.js';
import { consentPage, launchPage, loginPage, messagePage, PAGE_CSP, pickerPage } from './pages.js';
import { findPatient, findPatients } from './patients.js';
import { TTL } from './ttl.js';
import type { AuthEvent } from './index.js';
import { authenticate } from './users.js';

export interface InteractionOptions {
  provider: () => Promise<Provider>;
  auth: AuthStore;
  store: Store;
  audience: string;
  /** Told of every sign-in (docs/audit.md); awaited, so that no answered sign-in goes unrecorded. */
  events?: (event: AuthEvent) => Promise<void>;
}

type Form = Record<string, string>;
type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * The pages of an authorization: sign in, choose a patient, consent; and the EHR launch
 * page. They run inside oidc-provider's interaction sessions: each is bound to an
 * unguessable uid in its path and to a cookie scoped to that path (SameSite=Lax, signed),
 * so a form posted from another site reaches nothing.
 * http://hl7.org/fhir/smart-app-launch/1.0.0/
 */
export function interactionRoutes(app: FastifyInstance, o: InteractionOptions): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  /** The interaction the request's cookie names, which must be the one its path names. */
  const details = async (request: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply): Promise<{ provider: Provider; details: Details } | undefined> => {
    const provider = await o.provider();
    try {
      const d = await provider.interactionDetails(request.raw, reply.raw);
      if (d.uid === request.params.uid) return { provider, details: d };
    } catch {
      // No interaction session (expired, or the cookie was not sent): said below.
    }
    send(reply, 400, messagePage('This sign-in has expired', 'Go back to the app and start again.'));
    return undefined;
  };

  const clientName = async (provider: Provider, d: Details) => {
    const client = await provider.Client.find(String(d.params.client_id));
    return client?.clientName ?? String(d.params.client_id);
  };

  const finish = async (request: FastifyRequest, reply: FastifyReply, provider: Provider, result: Parameters<Provider['interactionResult']>[2]) => {
    const to = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
    return reply.redirect(to, 303);
  };

  const here = (uid: string) => `/auth/interaction/${encodeURIComponent(uid)}`;

  app.get<{ Params: { uid: string }; Querystring: { name?: string } }>('/interaction/:uid', async (request, reply) => {
    const found = await details(request, reply);
    if (!found) return reply;
    const { provider, details: d } = found;
    const name = await clientName(provider, d);
    if (d.prompt.name === 'login') return send(reply, 200, loginPage({ action: `${here(d.uid)}/login`, clientName: name }));
    const user = d.session?.accountId ? await o.auth.getUser(d.session.accountId) : undefined;
    if (!user) return send(reply, 400, messagePage('This sign-in has expired', 'Go back to the app and start again.'));
    const decision = await decide(o.auth, request0(d), user);
    if (decision.error) return send(reply, 403, messagePage('Access cannot be given', decision.error));
    if (decision.needPick) {
      const query = typeof request.query.name === 'string' ? request.query.name : '';
      return send(reply, 200, pickerPage({ action: `${here(d.uid)}/patient`, searchAction: here(d.uid), clientName: name, query, patients: await findPatients(o.store, query) }));
    }
    const patient = decision.patient ? await findPatient(o.store, decision.patient) : undefined;
    return send(reply, 200, consentPage({ action: `${here(d.uid)}/confirm`, clientName: name, granted: grantedWords(decision), refused: refusedWords(decision), ...(patient ? { patient: patient.name } : {}) }));
  });

  app.post<{ Params: { uid: string }; Body: Form }>('/interaction/:uid/login', async (request, reply) => {
    const found = await details(request, reply);
    if (!found) return reply;
    const { provider, details: d } = found;
    if (d.prompt.name !== 'login') return reply.redirect(here(d.uid), 303);
    const username = String(request.body?.username ?? '');
    const user = await authenticate(o.auth, username, String(request.body?.password ?? ''));
    await o.events?.({
      code: 'sign-in',
      success: Boolean(user),
      user: username.slice(0, 200),
      client: String(d.params.client_id),
      address: request.ip,
      requestId: request.id,
      method: 'POST',
      path: ['auth', 'interaction', 'login'],
      ...(user ? {} : { description: 'the user name or the password is wrong' }),
    });
    if (!user) {
      request.log.info({ client: d.params.client_id }, 'A sign-in failed');
      return send(reply, 401, loginPage({ action: `${here(d.uid)}/login`, clientName: await clientName(provider, d), error: 'The user name or the password is wrong.', username }));
    }
    return finish(request, reply, provider, { login: { accountId: user.username } });
  });

  app.post<{ Params: { uid: string }; Body: Form }>('/interaction/:uid/patient', async (request, reply) => {
    const found = await details(request, reply);
    if (!found) return reply;
    const { details: d } = found;
    const user = d.session?.accountId ? await o.auth.getUser(d.session.accountId) : undefined;
    // A patient user's patient is themselves: nothing to choose.
    if (d.prompt.name !== 'consent' || !user || user.patient) return reply.redirect(here(d.uid), 303);
    const patient = await findPatient(o.store, String(request.body?.patient ?? ''));
    if (!patient) return send(reply, 400, messagePage('No such patient', 'Choose one of the patients listed.'));
    await savePick(o.auth, d.uid, patient.id, Date.now() + TTL.interaction * 1000);
    return reply.redirect(here(d.uid), 303);
  });

  app.post<{ Params: { uid: string }; Body: Form }>('/interaction/:uid/confirm', async (request, reply) => {
    const found = await details(request, reply);
    if (!found) return reply;
    const { provider, details: d } = found;
    const user = d.session?.accountId ? await o.auth.getUser(d.session.accountId) : undefined;
    if (d.prompt.name !== 'consent' || !user) return reply.redirect(here(d.uid), 303);
    if (request.body?.decision !== 'allow') return finish(request, reply, provider, { error: 'access_denied', error_description: 'The user did not allow access' });
    const decision = await decide(o.auth, request0(d), user);
    if (decision.error) return finish(request, reply, provider, { error: 'access_denied', error_description: decision.error });
    if (decision.needPick) return reply.redirect(here(d.uid), 303);
    const grant = new provider.Grant({ accountId: user.username, clientId: String(d.params.client_id) });
    const refused = decision.refused.map((r) => r.scope);
    // oidc-provider asks for consent until every requested scope is granted or refused, both as
    // its own scopes and as the secure base's (whose token carries them all, context scopes too).
    grant.addOIDCScope(decision.granted.join(' '));
    grant.addResourceScope(o.audience, decision.granted.join(' '));
    if (refused.length) {
      grant.rejectOIDCScope(refused.join(' '));
      grant.rejectResourceScope(o.audience, refused.join(' '));
    }
    const missingClaims = (d.prompt.details as { missingOIDCClaims?: string[] }).missingOIDCClaims;
    if (missingClaims?.length) grant.addOIDCClaims(missingClaims);
    const grantId = await grant.save();
    await saveContext(o.auth, grantId, { ...(decision.patient ? { patient: decision.patient } : {}), needPatientBanner: decision.needPatientBanner }, Date.now() + TTL.grant * 1000);
    return finish(request, reply, provider, { consent: { grantId } });
  });

  app.get<{ Querystring: { name?: string } }>('/launch', async (request, reply) => {
    const query = typeof request.query.name === 'string' ? request.query.name : '';
    return send(reply, 200, launchPage({ action: '/auth/launch', searchAction: '/auth/launch', apps: await launchableApps(o.auth), query, patients: await findPatients(o.store, query) }));
  });

  app.post<{ Body: Form }>('/launch', async (request, reply) => {
    const app = (await launchableApps(o.auth)).find((a) => a.id === request.body?.client_id);
    const patient = await findPatient(o.store, String(request.body?.patient ?? ''));
    if (!app || !patient) return send(reply, 400, messagePage('Nothing to launch', 'Choose a registered app and a patient.'));
    const launch = await createLaunch(o.auth, app.id, patient.id);
    const to = new URL(app.launchUri);
    to.searchParams.set('iss', o.audience);
    to.searchParams.set('launch', launch);
    return reply.redirect(to.href, 303);
  });
}

function request0(d: Details): { uid: string; clientId: string; scope: string; launch?: string } {
  const launch = d.params.launch;
  return { uid: d.uid, clientId: String(d.params.client_id), scope: String(d.params.scope ?? ''), ...(typeof launch === 'string' ? { launch } : {}) };
}

/** The registered apps that have a launch URL. */
async function launchableApps(auth: AuthStore): Promise<Array<{ id: string; name: string; launchUri: string }>> {
  return (await auth.list('Client')).flatMap((e) =>
    typeof e.payload.launch_uri === 'string' ? [{ id: e.id, name: String(e.payload.client_name ?? e.id), launchUri: e.payload.launch_uri }] : [],
  );
}

function send(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .send(html);
}
