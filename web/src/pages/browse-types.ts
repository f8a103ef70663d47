import { resourceTypes } from '../capability.js';
import { heading, table } from '../components.js';
import { h, replace } from '../dom.js';
import { field, input } from '../forms.js';
import type { Page } from '../router.js';

export const browseTypes: Page = {
  title: () => 'Browse resources',
  async render({ main }) {
    const types = await resourceTypes();
    const filter = input('type-filter', '', { autocomplete: 'off', class: 'nhsuk-input nhsuk-input--width-20' });
    const rows = () =>
      types
        .filter((t) => t.type.toLowerCase().includes(filter.value.trim().toLowerCase()))
        .map((t) => [
          h('a', { href: `/browse/${t.type}` }, t.type),
          t.profile?.reference ? h('span', { class: 'ccri-break nhsuk-body-s' }, t.profile.reference.split('/').pop()!) : h('span', { class: 'nhsuk-body-s' }, 'STU3 base'),
          String(t.searchParam?.length ?? 0),
        ]);
    const holder = h('div', null, table('Resource types', ['Type', 'Profile', 'Search parameters'], rows(), { captionHidden: true, id: 'type-table' }));
    filter.addEventListener('input', () => replace(holder, table('Resource types', ['Type', 'Profile', 'Search parameters'], rows(), { captionHidden: true, id: 'type-table' })));
    replace(main, 
      heading('Browse resources'),
      h('p', { class: 'nhsuk-body' }, `Every resource type the CapabilityStatement declares (${types.length}). Choose one to search it with its own search parameters.`),
      field('type-filter', 'Filter the types', filter),
      holder,
    );
  },
};
