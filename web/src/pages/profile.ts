import { errorBox, heading, loading, summaryList, tag } from '../components.js';
import { api } from '../config.js';
import { type Child, h, replace } from '../dom.js';
import type { Resource } from '../fhir-types.js';
import { servedProfiles } from '../profile-list.js';
import type { Page } from '../router.js';

interface ElementDefinition {
  id?: string;
  path: string;
  sliceName?: string;
  min?: number;
  max?: string;
  short?: string;
  type?: Array<{ code?: string; profile?: string; targetProfile?: string }>;
  binding?: { strength?: string; valueSetReference?: { reference?: string }; valueSetUri?: string };
  slicing?: { discriminator?: Array<{ type?: string; path?: string }>; rules?: string };
  fixedUri?: string;
  [key: string]: unknown;
}

interface StructureDefinition extends Resource {
  url?: string;
  name?: string;
  title?: string;
  type?: string;
  baseDefinition?: string;
  description?: string;
  snapshot?: { element?: ElementDefinition[] };
}

/** Elements every resource has that say nothing about the profile. */
const NOISE = /\.(id|meta|implicitRules|language|contained)$|\.extension\.(id|extension)$|\.modifierExtension$/;

export const profile: Page = {
  title: ({ params }) => `Profile ${params.id}`,
  async render({ main, params }) {
    const id = params.id!;
    const [sd, served] = await Promise.all([api().json<StructureDefinition>(`StructureDefinition/${encodeURIComponent(id)}`), servedProfiles()]);
    document.title = `${sd.title ?? sd.name ?? id} - Care Connect explorer`;
    const byUrl = new Map(served.map((p) => [p.url, p]));
    const example = h('span', { id: 'profile-example' }, loading('Looking for an example'));
    const elements = (sd.snapshot?.element ?? []).filter((e) => !NOISE.test(e.path) || e.sliceName);
    replace(main, 
      h('nav', { class: 'nhsuk-breadcrumb', 'aria-label': 'Breadcrumb' }, h('ol', { class: 'nhsuk-breadcrumb__list' }, h('li', { class: 'nhsuk-breadcrumb__list-item' }, h('a', { class: 'nhsuk-breadcrumb__link', href: '/profiles' }, 'Care Connect profiles')))),
      heading(sd.title ?? sd.name ?? id, sd.type === 'Extension' ? 'Extension' : `Profile of ${sd.type ?? ''}`),
      sd.description ? h('p', { class: 'nhsuk-body' }, sd.description) : null,
      summaryList([
        ['URL', h('code', { class: 'ccri-break' }, sd.url ?? '')],
        ['Based on', h('code', { class: 'ccri-break' }, sd.baseDefinition ?? '')],
        ['Example from the data', example],
        ['As a resource', h('a', { href: `/resources/StructureDefinition/${id}` }, `StructureDefinition/${id}`)],
      ]),
      h('h2', { class: 'nhsuk-heading-m' }, 'Elements'),
      h('p', { class: 'nhsuk-body-s' }, 'Each element of the snapshot, indented under its parent. ', tag('slice', 'purple'), ' marks a slice, ', tag('extension', 'aqua-green'), ' an extension, and struck-through rows are not allowed (0..0).'),
      elementTree(elements, byUrl),
    );
    try {
      replace(example, await exampleLink(sd));
    } catch (err) {
      replace(example, errorBox(err, 'The example search failed'));
    }
  },
};

/** The first resource in the data that claims this profile (or, for one nobody claims, any of its type). */
async function exampleLink(sd: StructureDefinition): Promise<Child> {
  if (sd.type === 'Extension' || !sd.type || !sd.url) return 'Extensions have no example of their own; see a profile that uses them.';
  let bundle = await api().search(sd.type, { _profile: sd.url, _count: '1', _elements: 'id' });
  let claimed = true;
  if (!bundle.entry?.length) {
    bundle = await api().search(sd.type, { _count: '1', _elements: 'id' });
    claimed = false;
  }
  const r = bundle.entry?.find((e) => e.resource)?.resource;
  if (!r) return `No ${sd.type} in the data yet.`;
  return h('span', null, h('a', { href: `/resources/${r.resourceType}/${r.id}`, 'data-example': `${r.resourceType}/${r.id}` }, `${r.resourceType}/${r.id}`), claimed ? ' (claims this profile)' : ' (of this type; none claims the profile)');
}

function elementTree(elements: ElementDefinition[], byUrl: Map<string, { id: string }>): HTMLElement {
  const rows = elements.map((e) => {
    const depth = (e.id ?? e.path).split('.').length - 1;
    const name = (e.id ?? e.path).split('.').pop() ?? e.path;
    const prohibited = e.max === '0';
    const types = (e.type ?? []).map((t) => typeText(t, byUrl));
    const isExtension = (e.type ?? []).some((t) => t.code === 'Extension' && t.profile);
    const binding = e.binding ? bindingText(e.binding) : null;
    return h(
      'tr',
      { class: `nhsuk-table__row${prohibited ? ' ccri-prohibited' : ''}` },
      h('td', { class: 'nhsuk-table__cell ccri-tree-name', style: `padding-left: ${0.25 + depth * 0.9}em` }, h('span', { class: 'ccri-tree-indent' }, prohibited ? h('del', null, name) : name), e.sliceName ? [' ', tag('slice', 'purple')] : null, isExtension ? [' ', tag('extension', 'aqua-green')] : null, e.slicing ? h('span', { class: 'nhsuk-body-s ccri-block' }, `sliced by ${(e.slicing.discriminator ?? []).map((d) => `${d.type} ${d.path}`).join(', ')} (${e.slicing.rules ?? 'open'})`) : null),
      h('td', { class: 'nhsuk-table__cell ccri-nowrap' }, `${e.min ?? 0}..${e.max ?? '*'}`),
      h('td', { class: 'nhsuk-table__cell' }, types.length ? types.flatMap((t, i) => (i ? [', ', t] : [t])) : ''),
      h('td', { class: 'nhsuk-table__cell' }, binding, e.short ? h('span', { class: 'nhsuk-body-s ccri-block' }, e.short) : null),
    );
  });
  return h(
    'div',
    { class: 'ccri-table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Element tree' },
    h(
      'table',
      { class: 'nhsuk-table ccri-tree', id: 'element-tree' },
      h('caption', { class: 'nhsuk-u-visually-hidden' }, 'Elements of the profile'),
      h('colgroup', null, h('col', { class: 'ccri-tree__name' }), h('col', { class: 'ccri-tree__card' }), h('col', { class: 'ccri-tree__type' }), h('col', { class: 'ccri-tree__about' })),
      h('thead', { class: 'nhsuk-table__head' }, h('tr', { class: 'nhsuk-table__row' }, ['Element', 'Card.', 'Type', 'Binding and description'].map((x) => h('th', { scope: 'col', class: 'nhsuk-table__header' }, x)))),
      h('tbody', { class: 'nhsuk-table__body' }, rows),
    ),
  );
}

function typeText(t: { code?: string; profile?: string; targetProfile?: string }, byUrl: Map<string, { id: string }>): Child {
  const target = t.profile ?? t.targetProfile;
  if (!target) return t.code ?? '';
  const served = byUrl.get(target);
  const label = `${t.code === 'Reference' ? 'Reference(' : ''}${target.split('/').pop()}${t.code === 'Reference' ? ')' : ''}`;
  return served ? h('a', { href: `/profiles/${served.id}` }, label) : h('span', { title: target }, label);
}

function bindingText(b: NonNullable<ElementDefinition['binding']>): Child {
  const vs = b.valueSetReference?.reference ?? b.valueSetUri;
  return h('span', { class: 'ccri-block' }, tag(b.strength ?? 'binding', b.strength === 'required' ? 'red' : b.strength === 'extensible' ? 'orange' : 'grey'), ' ', vs ? h('a', { href: `/browse/ValueSet?url=${encodeURIComponent(vs)}`, class: 'ccri-break' }, vs.split('/').pop() ?? vs) : '');
}
