/**
 * Resource types the server serves read-only: the conformance resources, which come
 * from src/profiles at start-up. Writes to them through the API (create, update,
 * delete, conditional or in a Bundle) answer 405; see src/interactions/route.ts.
 */
export const READ_ONLY_TYPES: ReadonlySet<string> = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem']);
