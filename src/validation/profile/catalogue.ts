import { serverConformance, careConnectProfileFor } from '../../profiles/conformance.js';
import type { ConformanceSource } from '../../fhir/conformance.js';

/**
 * What the server validates against: its conformance resources (the Care Connect
 * profiles, extensions, value sets and code systems of src/profiles; the official
 * STU3 package is always consulted beneath them) and the Care Connect profile of
 * each resource type.
 */
export interface ProfileCatalogue {
  source: ConformanceSource;
  /** The profile a resource type is validated against on write (`Patient` -> CareConnect-Patient-1). */
  profileFor(type: string): string | undefined;
}

let catalogue: ProfileCatalogue | undefined;

/** The Care Connect catalogue (one per process, so compiled profiles are kept). */
export function careConnectCatalogue(): ProfileCatalogue {
  catalogue ??= { source: serverConformance(), profileFor: careConnectProfileFor };
  return catalogue;
}
