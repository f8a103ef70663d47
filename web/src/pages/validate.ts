import { errorBox, heading, loading } from '../components.js';
import { api } from '../config.js';
import { h, replace } from '../dom.js';
import type { OperationOutcome } from '../fhir-types.js';
import { button, field, select } from '../forms.js';
import { outcomeTable } from '../outcome-table.js';
import { servedProfiles } from '../profile-list.js';
import type { Page } from '../router.js';

export const validatePage: Page = {
  title: () => 'Validate a resource',
  async render({ main, query }) {
    const profiles = (await servedProfiles()).filter((p) => p.type !== 'Extension' && p.kind === 'resource');
    const chosen = query.get('profile') ?? '';
    const profileSelect = select('profile', [['', 'The resource type’s own definition (no profile)'], ...profiles.map((p): [string, string] => [p.url, `${p.title ?? p.name} (${p.type})`])], chosen);
    const text = h('textarea', { class: 'nhsuk-textarea ccri-textarea', id: 'resource-text', name: 'resource-text', rows: '16', spellcheck: 'false', 'aria-describedby': 'resource-text-hint' });
    const file = h('input', { class: 'nhsuk-file-upload', type: 'file', id: 'resource-file', name: 'resource-file', accept: '.json,.xml,application/json,application/xml,application/fhir+json,application/fhir+xml' });
    file.addEventListener('change', async () => {
      const f = file.files?.[0];
      if (f) text.value = await f.text();
    });
    const result = h('div', { id: 'validate-result', 'aria-live': 'polite' });
    const form = h(
      'form',
      { id: 'validate-form', novalidate: true, 'aria-label': 'Validate a resource' },
      h('div', { class: 'nhsuk-form-group' }, h('label', { class: 'nhsuk-label', for: 'resource-text' }, 'Resource'), h('div', { class: 'nhsuk-hint', id: 'resource-text-hint' }, 'Paste a resource in JSON or XML, or choose a file below.'), text),
      field('resource-file', 'Or upload a file', file),
      h('p', { class: 'nhsuk-body-s' }, button('Load a patient from the data', { type: 'button', class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small', id: 'load-example', onclick: () => void loadExample(text) }), ' to see what a valid one looks like, then change it.'),
      field('profile', 'Profile', profileSelect, 'The Care Connect profiles this server serves'),
      button('Validate'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void validate(text.value, profileSelect.value, result);
    });
    replace(main, heading('Validate a resource'), h('p', { class: 'nhsuk-body' }, 'The server checks the resource against the FHIR STU3 definitions and the profile you choose, with ', h('code', null, '$validate'), '. Nothing is stored.'), form, result);
  },
};

async function validate(source: string, profile: string, out: HTMLElement): Promise<void> {
  const text = source.trim();
  if (!text) {
    replace(out, errorBox(new Error('Paste a resource or choose a file first.')));
    return;
  }
  const xml = text.startsWith('<');
  const type = xml ? /<([A-Za-z]+)[\s>]/.exec(text.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '').trim())?.[1] : jsonType(text);
  if (!type || !/^[A-Z][A-Za-z]+$/.test(type)) {
    replace(out, errorBox(new Error(xml ? 'The XML has no root element naming a resource type.' : 'This is not JSON with a resourceType (nor XML): check the text.')));
    return;
  }
  replace(out, loading('Validating'));
  try {
    const { status, body } = await api().post<OperationOutcome>(`${type}/$validate`, text, xml ? 'application/fhir+xml' : 'application/fhir+json', profile ? { profile } : undefined);
    if (body.resourceType !== 'OperationOutcome') throw new Error(`$validate answered with a ${body.resourceType}`);
    replace(out, h('h2', { class: 'nhsuk-heading-m' }, `${type}${profile ? ` against ${profile.split('/').pop()}` : ''}`), outcomeTable(body, status));
  } catch (err) {
    replace(out, errorBox(err));
  }
}

function jsonType(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { resourceType?: unknown };
    return typeof parsed.resourceType === 'string' ? parsed.resourceType : undefined;
  } catch {
    return undefined;
  }
}

/** Fills the box with the first patient in the data, formatted, as something to start from. */
async function loadExample(text: HTMLTextAreaElement): Promise<void> {
  try {
    const bundle = await api().search('Patient', { _count: '1' });
    const patient = bundle.entry?.[0]?.resource;
    if (patient) text.value = JSON.stringify(patient, null, 2);
  } catch (err) {
    text.value = err instanceof Error ? err.message : String(err);
  }
  text.focus();
}
