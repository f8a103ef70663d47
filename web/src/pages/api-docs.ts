import { errorBox, heading } from '../components.js';
import { config } from '../config.js';
import { h, replace } from '../dom.js';
import type { Page } from '../router.js';

/**
 * Swagger UI over /openapi.json. The library (about 1.5 MB) is loaded only
 * here; its validator badge, which would call a server elsewhere, is off.
 */
export const apiDocs: Page = {
  title: () => 'API documentation',
  async render({ main }) {
    const target = h('div', { id: 'swagger-ui', class: 'ccri-swagger' });
    replace(main, 
      heading('API documentation'),
      h('p', { class: 'nhsuk-body' }, 'The OpenAPI 3 description of the FHIR API, generated from the CapabilityStatement: ', h('a', { href: '/openapi.json', 'data-external': true }, '/openapi.json'), '. Choose a type to see its interactions, then “Try it out” to call this server.'),
      h('p', { class: 'nhsuk-body-s' }, 'Open base: ', h('code', { class: 'ccri-break' }, config.openBase)),
      target,
    );
    try {
      const [{ default: SwaggerUI }] = await Promise.all([import('swagger-ui-dist/swagger-ui-es-bundle.js'), import('swagger-ui-dist/swagger-ui.css')]);
      await new Promise<void>((resolve, reject) => {
        SwaggerUI({
          url: '/openapi.json',
          domNode: target,
          docExpansion: 'none',
          defaultModelsExpandDepth: -1,
          deepLinking: false,
          validatorUrl: null,
          tryItOutEnabled: false,
          displayRequestDuration: true,
          onComplete: () => resolve(),
          onFailure: (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))),
        } as Record<string, unknown>);
      });
      labelServerChooser(target);
      target.setAttribute('data-loaded', 'true');
    } catch (err) {
      replace(target, errorBox(err, 'The API documentation could not be shown'));
    }
  },
};

/** Swagger UI draws the server chooser without a label; screen readers need one, redrawn or not. */
function labelServerChooser(root: HTMLElement): void {
  const label = () => root.querySelector('select#servers:not([aria-label])')?.setAttribute('aria-label', 'Server to send requests to');
  label();
  new MutationObserver(label).observe(root, { childList: true, subtree: true });
}
