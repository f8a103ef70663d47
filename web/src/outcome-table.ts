import { table, tag } from './components.js';
import { h } from './dom.js';
import type { OperationOutcome } from './fhir-types.js';

const COLOUR = { fatal: 'red', error: 'red', warning: 'orange', information: 'blue' } as const;

/** A validation result: a summary line, then each issue with its severity, path and message. */
export function outcomeTable(outcome: OperationOutcome, status: number): HTMLElement {
  const issues = (outcome.issue ?? []).filter((i) => !(i.severity === 'information' && /^(All OK|No issues)/i.test(i.diagnostics ?? i.details?.text ?? '')));
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').length;
  const warnings = issues.filter((i) => i.severity === 'warning').length;
  const valid = errors === 0 && status < 400;
  return h(
    'div',
    { id: 'validation-result', 'data-valid': String(valid), 'data-errors': String(errors) },
    h(
      'div',
      { class: `nhsuk-inset-text ${valid ? 'ccri-ok' : 'ccri-bad'}`, role: 'status' },
      h('span', { class: 'nhsuk-u-visually-hidden' }, 'Result: '),
      h('p', null, h('strong', null, valid ? 'Valid' : 'Not valid'), `: ${errors} ${errors === 1 ? 'error' : 'errors'}, ${warnings} ${warnings === 1 ? 'warning' : 'warnings'}.`),
    ),
    issues.length
      ? table(
          'Validation issues',
          ['Severity', 'Path', 'Issue'],
          issues.map((i) => [tag(i.severity ?? 'issue', COLOUR[i.severity as keyof typeof COLOUR] ?? 'grey'), h('code', { class: 'ccri-path' }, breakable(i.expression?.join(', ') ?? i.location?.join(', ') ?? '')), i.details?.text ?? i.diagnostics ?? i.code ?? '']),
          { id: 'issues-table' },
        )
      : null,
  );
}

/** A FHIRPath may wrap after each dot, never inside a name. */
function breakable(path: string): Array<string | HTMLElement> {
  return path.split('.').flatMap((part, i) => (i ? [h('wbr'), `.${part}`] : [part]));
}
