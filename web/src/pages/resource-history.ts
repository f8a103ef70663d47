import { table } from '../components.js';
import { api } from '../config.js';
import { diffLines, type DiffLine } from '../diff.js';
import { h, replace } from '../dom.js';
import type { Resource } from '../fhir-types.js';
import { button } from '../forms.js';
import { formatDate } from '../format.js';

interface Version {
  versionId: string;
  when: string;
  method: string;
  resource?: Resource;
}

/**
 * The versions of a resource from its `_history`, and a diff between any two of
 * them: the history Bundle already holds every version, so comparing needs no more calls.
 * https://hl7.org/fhir/STU3/http.html#history
 */
export async function historyView(type: string, id: string): Promise<HTMLElement> {
  const bundle = await api().search(`${type}/${encodeURIComponent(id)}/_history`, { _count: '100' });
  const versions: Version[] = (bundle.entry ?? []).map((e) => ({
    // A deletion has no resource: its version and time are in the entry's response (ETag W/"n", lastModified).
    versionId: e.resource?.meta?.versionId ?? /^W\/"([^"]+)"$/.exec(e.response?.etag ?? '')?.[1] ?? /_history\/([^/]+)$/.exec(e.request?.url ?? e.fullUrl ?? '')?.[1] ?? '?',
    when: e.resource?.meta?.lastUpdated ?? e.response?.lastModified ?? '',
    method: e.request?.method ?? (e.resource ? 'PUT' : 'DELETE'),
    ...(e.resource ? { resource: e.resource } : {}),
  }));
  const radios = (name: string, v: Version, checked: boolean) =>
    h('div', { class: 'nhsuk-radios nhsuk-radios--small' }, h('div', { class: 'nhsuk-radios__item' }, h('input', { class: 'nhsuk-radios__input', type: 'radio', name, id: `${name}-${v.versionId}`, value: v.versionId, checked, disabled: !v.resource }), h('label', { class: 'nhsuk-label nhsuk-radios__label', for: `${name}-${v.versionId}` }, h('span', { class: 'nhsuk-u-visually-hidden' }, `${name === 'from' ? 'Compare from' : 'Compare to'} version `), v.versionId)));
  // Compared at first: the newest version with content and the one before it (a deletion has none).
  const withContent = versions.flatMap((v, i) => (v.resource ? [i] : []));
  const toAt = withContent[0] ?? 0;
  const fromAt = withContent[1] ?? toAt;
  const diff = h('div', { id: 'history-diff' });
  const form = h(
    'form',
    { id: 'history-form', 'aria-label': 'Compare two versions' },
    table(
      `Versions of ${type}/${id}`,
      ['Version', 'Changed', 'How', 'From', 'To'],
      versions.map((v, i) => [
        v.resource ? h('a', { href: `/resources/${type}/${id}?version=${encodeURIComponent(v.versionId)}` }, v.versionId) : v.versionId,
        formatDate(v.when),
        v.method === 'DELETE' ? 'deleted' : v.method === 'POST' ? 'created' : i === versions.length - 1 ? 'created' : 'updated',
        radios('from', v, i === fromAt),
        radios('to', v, i === toAt),
      ]),
      { id: 'history-table' },
    ),
    withContent.length > 1
      ? button('Compare versions', { class: 'nhsuk-button nhsuk-button--secondary' })
      : h('p', { class: 'nhsuk-body' }, versions.length > 1 ? 'Only one version has content, so there is nothing to compare.' : 'There is only one version, so there is nothing to compare.'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const from = versions.find((v) => v.versionId === data.get('from'));
    const to = versions.find((v) => v.versionId === data.get('to'));
    replace(diff, from?.resource && to?.resource ? diffView(from, to) : h('p', { class: 'nhsuk-body' }, 'Choose two versions that still have content.'));
  });
  return h('div', null, form, diff);
}

/** Metadata changes with every version; leaving it out keeps the diff to what someone changed. */
function comparable(r: Resource): string {
  const { meta, ...rest } = r;
  const keep = meta?.profile ? { ...rest, meta: { profile: meta.profile } } : rest;
  return JSON.stringify(keep, null, 2);
}

function diffView(from: Version, to: Version): HTMLElement {
  const lines = diffLines(comparable(from.resource!), comparable(to.resource!));
  const changed = lines.filter((l) => l.kind !== 'same').length;
  return h(
    'div',
    { class: 'ccri-diff', 'data-changes': String(changed) },
    h('h3', { class: 'nhsuk-heading-s' }, `Version ${from.versionId} to version ${to.versionId}: ${changed ? `${changed} changed ${changed === 1 ? 'line' : 'lines'}` : 'no change in content'}`),
    h(
      'pre',
      { class: 'ccri-code', tabindex: '0', 'aria-label': 'Differences' },
      h(
        'code',
        null,
        collapse(lines).map((l) =>
          l.kind === 'gap' ? h('span', { class: 'ccri-diff__gap' }, `  … ${l.count} unchanged lines …\n`) : h(
            'span',
            { class: `ccri-diff__${l.kind}` },
            l.kind === 'added' ? h('ins', null, h('span', { class: 'nhsuk-u-visually-hidden' }, 'added: '), `+ ${l.text}`) : l.kind === 'removed' ? h('del', null, h('span', { class: 'nhsuk-u-visually-hidden' }, 'removed: '), `- ${l.text}`) : `  ${l.text}`,
            '\n',
          ),
        ),
      ),
    ),
  );
}

type Shown = DiffLine | { kind: 'gap'; count: number };
const CONTEXT = 3;

/** Long unchanged stretches fold to a line saying how many were left out, keeping three lines around each change. */
function collapse(lines: DiffLine[]): Shown[] {
  const near = lines.map(() => false);
  lines.forEach((l, i) => {
    if (l.kind === 'same') return;
    for (let j = Math.max(0, i - CONTEXT); j <= Math.min(lines.length - 1, i + CONTEXT); j++) near[j] = true;
  });
  const out: Shown[] = [];
  let skipped = 0;
  lines.forEach((l, i) => {
    if (l.kind === 'same' && !near[i]) {
      skipped++;
      return;
    }
    if (skipped) out.push({ kind: 'gap', count: skipped });
    skipped = 0;
    out.push(l);
  });
  if (skipped) out.push({ kind: 'gap', count: skipped });
  return out;
}
