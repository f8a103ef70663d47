import { errorBox, heading, table } from '../components.js';
import { h, replace } from '../dom.js';
import { servedProfiles, type ProfileSummary } from '../profile-list.js';
import type { Page } from '../router.js';

export const profiles: Page = {
  title: () => 'Care Connect profiles',
  async render({ main, query }) {
    const all = await servedProfiles();
    // A badge links here with ?url=: open that profile's page.
    const wanted = query.get('url');
    if (wanted) {
      const found = all.find((p) => p.url === wanted);
      if (found) {
        history.replaceState(null, '', `/profiles/${found.id}`);
        const { profile } = await import('./profile.js');
        await profile.render({ main, query: new URLSearchParams(), params: { id: found.id }, go: () => undefined });
        return;
      }
      replace(main, heading('Care Connect profiles'), errorBox(new Error(`This server serves no StructureDefinition with the URL ${wanted}.`)));
      return;
    }
    const resources = all.filter((p) => p.type !== 'Extension');
    const extensions = all.filter((p) => p.type === 'Extension');
    replace(main, 
      heading('Care Connect profiles'),
      h('p', { class: 'nhsuk-body' }, `The server serves ${resources.length} profiles and ${extensions.length} extensions. Open one to see its elements, with cardinality, types, bindings, slices and extensions.`),
      h('h2', { class: 'nhsuk-heading-m' }, 'Profiles'),
      list('Profiles', resources, true),
      h('h2', { class: 'nhsuk-heading-m' }, 'Extensions'),
      list('Extensions', extensions, false),
    );
  },
};

function list(caption: string, items: ProfileSummary[], withType: boolean): HTMLElement {
  return table(
    caption,
    withType ? ['Profile', 'Resource type', 'URL'] : ['Extension', 'URL'],
    items.map((p) => [h('a', { href: `/profiles/${p.id}` }, p.title ?? p.name), ...(withType ? [p.type] : []), h('code', { class: 'ccri-break nhsuk-body-s' }, p.url)]),
    { captionHidden: true, id: `${caption.toLowerCase()}-table` },
  );
}
