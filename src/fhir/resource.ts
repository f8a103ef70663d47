/** Any FHIR resource, as parsed JSON. */
export type Resource = Record<string, unknown> & { resourceType: string; id?: string };
