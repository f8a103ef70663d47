import { layered } from '../fhir/conformance.js';
import { packageSource } from '../fhir/definitions/package-source.js';
import { serverConformance } from '../profiles/conformance.js';
import { Terminology } from './terminology.js';

let server: Terminology | undefined;

/**
 * The terminology the server holds: the Care Connect value sets and code systems over
 * those of the STU3 package. Search's `:in`, `:below` and `:above` expand with it.
 */
export function serverTerminology(): Terminology {
  server ??= new Terminology(layered(serverConformance(), packageSource()));
  return server;
}
