import { h, type Child } from './dom.js';

/** A labelled form group in the design system's markup, with an optional hint and a live message slot. */
export function field(id: string, label: string, control: HTMLElement, hint?: string, message?: HTMLElement): HTMLElement {
  const described = [hint ? `${id}-hint` : '', message ? message.id : ''].filter(Boolean).join(' ');
  if (described) control.setAttribute('aria-describedby', described);
  return h('div', { class: 'nhsuk-form-group' }, h('label', { class: 'nhsuk-label', for: id }, label), hint ? h('div', { class: 'nhsuk-hint', id: `${id}-hint` }, hint) : null, message ?? null, control);
}

export function input(id: string, value: string, attrs: Record<string, string | boolean> = {}): HTMLInputElement {
  return h('input', { class: 'nhsuk-input', id, name: id, type: 'text', value, ...attrs });
}

export function select(id: string, options: Array<[string, string]>, selected: string): HTMLSelectElement {
  return h('select', { class: 'nhsuk-select', id, name: id }, options.map(([value, text]) => h('option', { value, selected: value === selected }, text)));
}

export function button(text: string, attrs: Record<string, string | boolean | ((e: Event) => void)> = {}, ...children: Child[]): HTMLButtonElement {
  return h('button', { class: 'nhsuk-button', type: 'submit', 'data-module': 'nhsuk-button', ...attrs }, text, ...children);
}
