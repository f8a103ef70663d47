/**
 * The authorization server's pages: plain HTML with no script, no external font or
 * stylesheet, labelled fields, and readable at phone width. Everything shown that came
 * from a request, a client's registration or the store is escaped here.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** The Content-Security-Policy of every page: nothing loads from anywhere, and no other site may frame it. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE =
  'body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:1rem;background:#f4f6f8;color:#1d2329;line-height:1.5}' +
  'main{max-width:32rem;margin:0 auto;background:#fff;padding:1.25rem;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.15)}' +
  'h1{font-size:1.4rem;margin-top:0}label{display:block;font-weight:600;margin-top:.75rem}' +
  'input[type=text],input[type=password],input[type=search],select{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #8a96a3;border-radius:4px}' +
  'button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:4px;background:#005eb8;color:#fff;cursor:pointer}' +
  'button.secondary{background:#e8edee;color:#1d2329}button:focus,input:focus,select:focus{outline:3px solid #ffb81c}' +
  '.error{color:#b00020;font-weight:600}ul{padding-left:1.25rem}fieldset{border:1px solid #d0d7de;border-radius:4px;margin-top:1rem}' +
  '.patient{display:block;font-weight:400}.note{color:#4c5661;font-size:.9rem}';

/** A whole page around `body` (already HTML). */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

const errorLine = (error?: string) => (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '');

export function loginPage(o: { action: string; clientName: string; error?: string; username?: string }): string {
  return page(
    'Sign in',
    `<p><strong>${escapeHtml(o.clientName)}</strong> asks you to sign in to the Care Connect FHIR server.</p>
${errorLine(o.error)}
<form method="post" action="${escapeHtml(o.action)}">
<label for="username">User name</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" required value="${escapeHtml(o.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

export interface PatientChoice {
  id: string;
  name: string;
  birthDate?: string;
}

export function pickerPage(o: { action: string; searchAction: string; clientName: string; query: string; patients: PatientChoice[]; error?: string }): string {
  const choices = o.patients.length
    ? `<form method="post" action="${escapeHtml(o.action)}">
<fieldset><legend>Patients${o.query ? ` named “${escapeHtml(o.query)}”` : ''}</legend>
${o.patients
  .map(
    (p, i) =>
      `<label class="patient"><input type="radio" name="patient" value="${escapeHtml(p.id)}"${i === 0 ? ' required' : ''}> ${escapeHtml(p.name)}${p.birthDate ? `, born ${escapeHtml(p.birthDate)}` : ''} <span class="note">(Patient/${escapeHtml(p.id)})</span></label>`,
  )
  .join('\n')}
</fieldset>
<button type="submit">Choose this patient</button>
</form>`
    : `<p>${o.query ? `No patient is named “${escapeHtml(o.query)}”.` : 'Search for a patient by name.'}</p>`;
  return page(
    'Choose a patient',
    `<p><strong>${escapeHtml(o.clientName)}</strong> will work with the patient you choose.</p>
${errorLine(o.error)}
<form method="get" action="${escapeHtml(o.searchAction)}" role="search">
<label for="name">Patient name</label>
<input id="name" name="name" type="search" value="${escapeHtml(o.query)}">
<button type="submit" class="secondary">Search</button>
</form>
${choices}`,
  );
}

export function consentPage(o: { action: string; clientName: string; granted: string[]; refused: Array<{ words: string; why: string }>; patient?: string }): string {
  const refused = o.refused.length
    ? `<p>It will <strong>not</strong> be allowed to:</p><ul>${o.refused.map((r) => `<li>${escapeHtml(r.words)} <span class="note">(${escapeHtml(r.why)})</span></li>`).join('')}</ul>`
    : '';
  return page(
    'Allow access?',
    `<p><strong>${escapeHtml(o.clientName)}</strong> asks to:</p>
<ul>${o.granted.map((g) => `<li>${escapeHtml(g)}</li>`).join('')}</ul>
${o.patient ? `<p>Patient: <strong>${escapeHtml(o.patient)}</strong></p>` : ''}
${refused}
<form method="post" action="${escapeHtml(o.action)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  );
}

export function launchPage(o: { action: string; searchAction: string; apps: Array<{ id: string; name: string }>; query: string; patients: PatientChoice[]; error?: string }): string {
  const apps = o.apps.length
    ? `<label for="client_id">App</label><select id="client_id" name="client_id" required>${o.apps.map((a) => `<option value="${escapeHtml(a.id)}">${escapeHtml(a.name)}</option>`).join('')}</select>`
    : '<p>No app with a launch URL is registered (<code>ccri client add … --launch-uri</code>).</p>';
  const patients = o.patients.length
    ? `<fieldset><legend>Patient</legend>${o.patients.map((p, i) => `<label class="patient"><input type="radio" name="patient" value="${escapeHtml(p.id)}"${i === 0 ? ' required' : ''}> ${escapeHtml(p.name)}${p.birthDate ? `, born ${escapeHtml(p.birthDate)}` : ''}</label>`).join('\n')}</fieldset>`
    : `<p>${o.query ? `No patient is named “${escapeHtml(o.query)}”.` : 'Search for a patient by name.'}</p>`;
  return page(
    'Launch an app',
    `<p>Opens a registered SMART app for a patient, as an EHR would (EHR launch).</p>
${errorLine(o.error)}
<form method="get" action="${escapeHtml(o.searchAction)}" role="search">
<label for="name">Patient name</label>
<input id="name" name="name" type="search" value="${escapeHtml(o.query)}">
<button type="submit" class="secondary">Search</button>
</form>
<form method="post" action="${escapeHtml(o.action)}">
${patients}
${apps}
<button type="submit"${o.apps.length && o.patients.length ? '' : ' disabled'}>Launch</button>
</form>`,
  );
}

export function messagePage(title: string, message: string, details: Record<string, string | undefined> = {}): string {
  const lines = Object.entries(details)
    .filter(([, v]) => v)
    .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`)
    .join('');
  return page(title, `<p>${escapeHtml(message)}</p>${lines}`);
}

/** The sign-out question; `form` is oidc-provider's own form (its hidden CSRF field), submitted by the buttons. */
export function logoutPage(form: string, host: string): string {
  return page(
    'Sign out?',
    `<p>Do you want to sign out of ${escapeHtml(host)}?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
  );
}
