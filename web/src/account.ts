import { config } from './config.js';
import { h, replace, svg } from './dom.js';
import { canReadAudit, currentSession, displayName } from './session.js';

/**
 * The header's account area: "Sign in", or who is signed in and "Sign out"; and the
 * "Audit" menu item, for a token that may read the audit trail. Drawn once per page load
 * (signing in and out load the page afresh), before the header's script measures the menu.
 */
export function drawAccount(): void {
  const session = config.secureBase ? currentSession() : undefined;
  const nav = document.getElementById('ccri-account');
  const auditItem = document.getElementById('ccri-nav-audit');
  if (!canReadAudit(session)) auditItem?.remove();
  else auditItem?.removeAttribute('hidden');
  if (!nav) return;
  const list = h('ul', { class: 'nhsuk-header__account-list' });
  if (session) {
    list.append(
      h(
        'li',
        { class: 'nhsuk-header__account-item', 'data-signed-in': session.user },
        userIcon(),
        h('span', null, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Signed in as '), displayName(session)),
      ),
      h(
        'li',
        { class: 'nhsuk-header__account-item' },
        h(
          'button',
          {
            type: 'button',
            class: 'nhsuk-header__account-button',
            id: 'sign-out',
            onclick: () => void import('./sign-in.js').then((m) => m.signOut(session)),
          },
          'Sign out',
        ),
      ),
    );
  } else if (config.signIn?.available) {
    list.append(h('li', { class: 'nhsuk-header__account-item' }, h('a', { class: 'nhsuk-header__account-link', href: '/sign-in', id: 'sign-in-link' }, 'Sign in')));
  } else {
    return;
  }
  replace(nav, list);
  nav.removeAttribute('hidden');
}

function userIcon(): SVGElement {
  const icon = svg('svg', { class: 'nhsuk-icon nhsuk-icon--user', viewBox: '0 0 24 24', width: '16', height: '16', focusable: 'false', 'aria-hidden': 'true' }, svg('path', { d: 'M12 1a11 11 0 1 1 0 22 11 11 0 0 1 0-22Zm0 2a9 9 0 0 0-5 16.5V18a4 4 0 0 1 4-4h2a4 4 0 0 1 4 4v1.5A9 9 0 0 0 12 3Zm0 3a3.5 3.5 0 1 1-3.5 3.5A3.4 3.4 0 0 1 12 6Z' }));
  return icon;
}
