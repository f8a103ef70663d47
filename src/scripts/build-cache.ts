import { careConnectResources } from '../profiles/conformance.js';
import { searchRegistry } from '../search/registry.js';
import { fhirModel } from '../fhir/definitions/model.js';

/**
 * Run by `npm run build`: derives the model and the search registry from the
 * definitions package and writes them to the cache, so start-up only reads them.
 */
const started = Date.now();
fhirModel();
searchRegistry();
careConnectResources();
console.log(`definitions cache ready in ${Date.now() - started} ms`);
