import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import './styles.css';
import { initHeader, initSkipLinks } from 'nhsuk-frontend';
import { drawAccount } from './account.js';
import { config } from './config.js';
import { startRouter } from './router.js';

// The design system styles its components only when it knows its script runs.
document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');

// Links to the API follow the base the server configured, wherever it is mounted.
for (const a of document.querySelectorAll<HTMLAnchorElement>('a[href="/STU3/metadata"]')) a.href = `${config.openBase}/metadata`;

drawAccount();
initSkipLinks();
initHeader();
startRouter();
