/**
 * Resource types the server serves read-only: the conformance resources, which come
 * from src/profiles at start-up, and the AuditEvents, which only the audit trail writes
 * (docs/audit.md), and the OperationDefinitions of the server's own operations, served
 * from the operation registry (src/interactions/operation-definitions.ts). Writes to them through the API (create, update, delete, conditional
 * or in a Bundle) answer 405; see src/pipeline/route.ts.
 */
export const READ_ONLY_TYPES: ReadonlySet<string> = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'OperationDefinition', 'AuditEvent']);

/** Why `type` is read-only, for the 405 that refuses a write to it. */
export function readOnlyReason(type: string): string {
  return type === 'AuditEvent'
    ? 'AuditEvents are written only by the server itself, one for every request (its audit trail)'
    : type === 'OperationDefinition'
      ? "they define this server's own operations"
      : 'they are the Care Connect conformance resources it was built with';
}
