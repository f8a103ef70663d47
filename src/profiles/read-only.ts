/**
 * Resource types the server serves read-only: the conformance resources, which come
 * from src/profiles at start-up. Writes to them through the API (create, update,
 * delete, conditional or in a Bundle) answer 405; see src/interactions/route.ts.
 * OperationDefinitions are the server's own operations', served from the operation
 * registry (src/interactions/operation-definitions.ts).
 */
export const READ_ONLY_TYPES: ReadonlySet<string> = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'OperationDefinition']);
