import { errorBox, heading, summaryList } from '../components.js';
import { config } from '../config.js';
import { h, replace } from '../dom.js';
import { button } from '../forms.js';
import type { Page } from '../router.js';
import { currentSession, displayName } from '../session.js';
import { AUDIT_SCOPES, explorerScopes, type SignInKind } from '../../../src/ui/sign-in.js';

/**
 * Signing in: the explorer is a SMART app of the server's own authorization server. This
 * page says what signing in does, lets the user choose the access to ask for, and sends
 * them to the server's sign-in page. Without an embedded authorization server, it says why.
 */
export const signInPage: Page = {
  title: () => 'Sign in',
  async render({ main, query }) {
    const s = config.signIn;
    if (!s?.available || !config.secureBase) {
      replace(main, heading('Sign in'), h('div', { class: 'nhsuk-inset-text', id: 'sign-in-unavailable' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '), h('p', null, s && !s.available ? s.reason : 'This server has no secure API to sign in to.')));
      return;
    }
    const returnTo = query.get('return') ?? '/';
    const session = currentSession();
    const status = h('div', { id: 'sign-in-status' });
    const radio = (kind: SignInKind, label: string, hint: string, checked: boolean) =>
      h(
        'div',
        { class: 'nhsuk-radios__item' },
        h('input', { class: 'nhsuk-radios__input', id: `kind-${kind}`, name: 'kind', type: 'radio', value: kind, checked, 'aria-describedby': `kind-${kind}-hint` }),
        h('label', { class: 'nhsuk-label nhsuk-radios__label', for: `kind-${kind}` }, label),
        h('div', { class: 'nhsuk-hint nhsuk-radios__hint', id: `kind-${kind}-hint` }, hint),
      );
    const form = h(
      'form',
      { id: 'sign-in-form', novalidate: true },
      h(
        'div',
        { class: 'nhsuk-form-group' },
        h(
          'fieldset',
          { class: 'nhsuk-fieldset' },
          h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--m' }, h('h2', { class: 'nhsuk-fieldset__heading' }, 'Which records do you need?')),
          h(
            'div',
            { class: 'nhsuk-radios' },
            radio('staff', 'Every patient: I work in care', `Asks for ${explorerScopes('staff', false).slice(-1)[0]}. In the demo data, sign in as clinician.`, session?.kind !== 'patient'),
            radio('patient', 'One patient’s record', `Asks for ${explorerScopes('patient', false).slice(-1)[0]}: your own record if you are a patient (in the demo data, bernie), otherwise the patient you choose on the next page.`, session?.kind === 'patient'),
          ),
        ),
      ),
      h(
        'div',
        { class: 'nhsuk-form-group' },
        h(
          'div',
          { class: 'nhsuk-checkboxes' },
          h(
            'div',
            { class: 'nhsuk-checkboxes__item' },
            h('input', { class: 'nhsuk-checkboxes__input', id: 'audit', name: 'audit', type: 'checkbox', value: 'yes', checked: true, 'aria-describedby': 'audit-hint' }),
            h('label', { class: 'nhsuk-label nhsuk-checkboxes__label', for: 'audit' }, 'Also read the audit trail: who accessed which record, and when'),
            h('div', { class: 'nhsuk-hint nhsuk-checkboxes__hint', id: 'audit-hint' }, `Asks for ${AUDIT_SCOPES.staff} (every patient) or ${AUDIT_SCOPES.patient} (who looked at that one record). No wildcard scope includes it.`),
          ),
        ),
      ),
      button(session ? 'Sign in again' : 'Continue to sign in', { id: 'sign-in-button' }),
      status,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const kind = (form.elements.namedItem('kind') as RadioNodeList).value as SignInKind;
      const audit = (form.elements.namedItem('audit') as HTMLInputElement).checked;
      replace(status, h('p', { class: 'nhsuk-body', role: 'status' }, 'Going to the sign-in page…'));
      import('../sign-in.js')
        .then((m) => m.startSignIn(kind === 'patient' ? 'patient' : 'staff', audit, returnTo))
        .catch((err: unknown) => replace(status, errorBox(err, 'Signing in could not start')));
    });
    replace(
      main,
      heading('Sign in'),
      h(
        'p',
        { class: 'nhsuk-lede-text' },
        'Signed in, the explorer calls the secure API with your own access token, as any SMART on FHIR app does: you see what your access allows, and what you read is recorded in the audit trail under your name.',
      ),
      session
        ? h(
            'div',
            { class: 'nhsuk-inset-text', id: 'signed-in-as' },
            h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '),
            h('p', null, `You are signed in as ${displayName(session)}.`),
            summaryList([
              ['Access granted', h('code', { class: 'ccri-break' }, session.scope)],
              ['Token expires', new Date(session.expiresAt).toLocaleString('en-GB')],
            ]),
          )
        : null,
      form,
      h('h2', { class: 'nhsuk-heading-s' }, 'How it works'),
      h(
        'ul',
        { class: 'nhsuk-list nhsuk-list--bullet nhsuk-body-s' },
        h('li', null, 'The explorer is registered at this server’s authorization server as a public SMART app (', h('code', null, s.clientId), '): authorization code with PKCE (S256) and a state check, no secret.'),
        h('li', null, 'You sign in and agree to the access on the server’s own pages; the explorer never sees your password.'),
        h('li', null, 'The token is kept in this browser tab’s session storage: it is gone when you close the tab, and other tabs do not share it. Sign out revokes it.'),
        h('li', null, 'Secure base: ', h('code', { class: 'ccri-break' }, config.secureBase)),
      ),
    );
  },
};
