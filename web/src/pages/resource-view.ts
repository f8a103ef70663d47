import { ApiError } from '../api.js';
import { errorBox, heading, loading, summaryList, tag } from '../components.js';
import { api } from '../config.js';
import { h, replace } from '../dom.js';
import type { Bundle, OperationOutcome, Resource } from '../fhir-types.js';
import { button } from '../forms.js';
import { describe, formatDate } from '../format.js';
import { outcomeTable } from '../outcome-table.js';
import { jsonView, xmlView } from '../resource-text.js';
import type { Page, PageContext } from '../router.js';
import { historyView } from './resource-history.js';

type View = 'json' | 'xml' | 'history';
const VIEWS: Array<[View, string]> = [
  ['json', 'JSON'],
  ['xml', 'XML'],
  ['history', 'History'],
];

export const resourceView: Page = {
  title: ({ params }) => `${params.type}/${params.id}`,
  async render(ctx) {
    const { main, params, query } = ctx;
    const { type, id } = params as { type: string; id: string };
    const version = query.get('version');
    const view = (VIEWS.find(([v]) => v === query.get('view'))?.[0] ?? 'json') as View;
    const path = version ? `${type}/${encodeURIComponent(id)}/_history/${encodeURIComponent(version)}` : `${type}/${encodeURIComponent(id)}`;
    let resource: Resource;
    try {
      resource = await api().json(path);
    } catch (err) {
      // Deleted: the versions before the deletion are still there, and the history says when it went.
      const gone = err instanceof ApiError && err.status === 410 && !version;
      replace(main, heading(`${type}/${id}`), errorBox(err, gone ? 'This resource was deleted' : undefined));
      if (gone) {
        const versions = h('div', { id: 'resource-body' }, loading());
        main.append(versions);
        try {
          replace(versions, await historyView(type, id));
        } catch (historyErr) {
          replace(versions, errorBox(historyErr));
        }
      }
      return;
    }
    const validation = h('div', { id: 'validation' });
    const body = h('div', { id: 'resource-body' });
    const profiles = resource.meta?.profile ?? [];
    const story = narrative(resource);
    replace(main, 
      h('nav', { class: 'nhsuk-breadcrumb', 'aria-label': 'Breadcrumb' }, h('ol', { class: 'nhsuk-breadcrumb__list' }, h('li', { class: 'nhsuk-breadcrumb__list-item' }, h('a', { class: 'nhsuk-breadcrumb__link', href: `/browse/${type}` }, `${type} search`)))),
      heading(describe(resource) || `${type}/${id}`, `${type}/${id}${version ? ` version ${version}` : ''}`),
      h(
        'div',
        { class: 'ccri-profile-badges', id: 'profile-badges' },
        profiles.length ? profiles.map((p) => h('a', { href: `/profiles?url=${encodeURIComponent(p)}`, class: 'ccri-badge-link', title: p }, tag(p.split('/').pop() ?? p, 'blue'))) : tag('No profile claimed', 'grey'),
      ),
      summaryList([
        ['Version', `${resource.meta?.versionId ?? '?'}${version ? '' : ' (current)'}`],
        ['Last updated', formatDate(resource.meta?.lastUpdated)],
        ...(story ? [['Narrative', h('span', { id: 'narrative' }, story)] as [string, HTMLElement]] : []),
        ['API URL', h('a', { href: api().url(path), 'data-external': true, class: 'ccri-break' }, api().url(path))],
      ]),
      resource.resourceType === 'Patient' ? h('p', { class: 'nhsuk-body' }, h('a', { href: `/patients/${id}` }, 'Open the patient record')) : null,
      button(profiles.length ? `Validate against ${profiles[0]!.split('/').pop()}` : `Validate against the ${type} definition`, {
        type: 'button',
        id: 'validate-button',
        class: 'nhsuk-button nhsuk-button--secondary',
        onclick: () => void runValidate(resource, profiles[0], validation),
      }),
      validation,
      h('nav', { class: 'ccri-tabs', 'aria-label': 'Views of the resource' }, h('ul', { class: 'ccri-tabs__list' }, VIEWS.map(([v, label]) => h('li', null, h('a', { href: viewUrl(ctx, v), class: 'ccri-tabs__tab', ...(v === view ? { 'aria-current': 'page' } : {}), 'data-view': v }, label))))),
      body,
    );
    replace(body, loading());
    try {
      if (view === 'json') replace(body, jsonView(resource, api().base));
      else if (view === 'xml') replace(body, xmlView(await api().text(path, 'application/fhir+xml', { _pretty: 'true' }), api().base));
      else replace(body, await historyView(type, id));
    } catch (err) {
      replace(body, errorBox(err));
    }
  },
};

function viewUrl(ctx: PageContext, view: View): string {
  const q = new URLSearchParams(ctx.query);
  if (view === 'json') q.delete('view');
  else q.set('view', view);
  const s = q.toString();
  return `/resources/${ctx.params.type}/${ctx.params.id}${s ? `?${s}` : ''}`;
}

/** `$validate` on the server, against the profile the resource claims (or its type's definition). */
async function runValidate(resource: Resource, profile: string | undefined, out: HTMLElement): Promise<void> {
  replace(out, loading('Validating'));
  try {
    const { status, body } = await api().post<OperationOutcome | Bundle>(`${resource.resourceType}/$validate`, JSON.stringify(resource), 'application/fhir+json', profile ? { profile } : undefined);
    if (body.resourceType !== 'OperationOutcome') throw new Error(`$validate answered with a ${body.resourceType}, not an OperationOutcome`);
    replace(out, h('h2', { class: 'nhsuk-heading-s' }, `Validation${profile ? ` against ${profile}` : ''}`), outcomeTable(body as OperationOutcome, status));
  } catch (err) {
    replace(out, errorBox(err, 'The resource could not be validated'));
  }
  out.querySelector<HTMLElement>('[role=status], [role=alert]')?.focus?.();
}

/**
 * The resource's narrative as plain text. The XHTML is parsed (which runs nothing)
 * and only its text is shown, so no markup from the data reaches the page.
 */
function narrative(resource: Resource): string | undefined {
  const div = (resource.text as { div?: unknown } | undefined)?.div;
  if (typeof div !== 'string' || !div) return undefined;
  const doc = new DOMParser().parseFromString(div, 'application/xhtml+xml');
  if (doc.getElementsByTagName('parsererror').length) return undefined;
  return doc.documentElement.textContent?.replace(/\s+/g, ' ').trim() || undefined;
}
