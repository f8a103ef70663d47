import { errorBox, heading, loading } from '../components.js';
import { h, replace } from '../dom.js';
import type { Page } from '../router.js';

/** Where the authorization server sends the browser back with a code (or an error). */
export const signInCallback: Page = {
  title: () => 'Signing in',
  async render({ main }) {
    replace(main, heading('Signing in'), loading('Finishing signing in'));
    let next: string;
    try {
      const { completeSignIn } = await import('../sign-in.js');
      next = await completeSignIn(new URL(location.href));
    } catch (err) {
      replace(main, heading('You are not signed in'), errorBox(err, 'Signing in did not finish'), h('p', { class: 'nhsuk-body' }, h('a', { href: '/sign-in' }, 'Try again'), ' or ', h('a', { href: '/' }, 'go to the home page'), '.'));
      return;
    }
    // A fresh load, so that every part of the page (the header, the API the pages call) starts signed in.
    location.replace(next);
  },
};
