import type { OperationDefinitionSpec } from '../interactions/types.js';

/** One parameter of an operation, as OperationDefinition.parameter says it. */
export interface ParamSpec {
  name: string;
  use: 'in' | 'out';
  min: number;
  /** A number, or '*'. */
  max: string;
  /** A FHIR type (`string`, `date`, `Resource`…); absent for a parameter with parts. */
  type?: string;
  /** For `type: 'string'` parameters that behave as search parameters. */
  searchType?: string;
  documentation: string;
  part?: ParamSpec[];
}

export interface OperationSpec {
  /** `{Type}-{code}` as the STU3 specification names its own, or the code alone for a system operation. */
  id: string;
  code: string;
  /** A human name. */
  title: string;
  description: string;
  /** Resource types it applies to (none for a system-only operation). */
  resource?: readonly string[];
  system: boolean;
  type: boolean;
  instance: boolean;
  /** Whether it changes data (idempotent otherwise). */
  affectsState?: boolean;
  /** The standard definition this one is based on, when there is one. */
  base?: string;
  parameter: readonly ParamSpec[];
}

/**
 * Our own OperationDefinition for an operation the server supports: what it accepts and
 * returns here (the STU3 ones lack `_since`, `_type` or `_count`, and bulk export has
 * none in STU3). `base` names the standard definition it follows.
 */
export function operationDefinition(spec: OperationSpec): OperationDefinitionSpec {
  const param = (p: ParamSpec): Record<string, unknown> => ({
    name: p.name,
    use: p.use,
    min: p.min,
    max: p.max,
    documentation: p.documentation,
    ...(p.type ? { type: p.type } : {}),
    ...(p.searchType ? { searchType: p.searchType } : {}),
    ...(p.part ? { part: p.part.map(param) } : {}),
  });
  return {
    id: spec.id,
    resource: {
      resourceType: 'OperationDefinition',
      id: spec.id,
      name: spec.title,
      status: 'active',
      kind: 'operation',
      publisher: 'Care Connect Reference Implementation project',
      description: spec.description,
      idempotent: !spec.affectsState,
      code: spec.code,
      ...(spec.base ? { base: { reference: spec.base } } : {}),
      ...(spec.resource?.length ? { resource: [...spec.resource] } : {}),
      system: spec.system,
      type: spec.type,
      instance: spec.instance,
      parameter: spec.parameter.map(param),
    },
  };
}
