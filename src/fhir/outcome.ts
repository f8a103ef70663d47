import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r3';

/**
 * Errors are FHIR values: deep code throws a FhirError carrying the HTTP status
 * and the OperationOutcome issues; the HTTP layer renders it in the negotiated format.
 * https://hl7.org/fhir/STU3/operationoutcome.html
 */

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';
export type IssueCode =
  | 'invalid' | 'structure' | 'required' | 'value' | 'invariant'
  | 'security' | 'login' | 'unknown' | 'expired' | 'forbidden' | 'suppressed'
  | 'processing' | 'not-supported' | 'duplicate' | 'not-found' | 'too-long'
  | 'code-invalid' | 'extension' | 'too-costly' | 'business-rule' | 'conflict'
  | 'incomplete' | 'transient' | 'lock-error' | 'no-store' | 'exception'
  | 'timeout' | 'throttled' | 'informational';

export interface Issue {
  severity: IssueSeverity;
  code: IssueCode;
  diagnostics: string;
  /** FHIRPath locations of the element(s) concerned. */
  expression?: string[];
}

export class FhirError extends Error {
  readonly status: number;
  readonly issues: Issue[];
  readonly headers: Record<string, string>;

  constructor(status: number, issues: Issue | Issue[], headers: Record<string, string> = {}) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map((i) => i.diagnostics).join('; '));
    this.name = 'FhirError';
    this.status = status;
    this.issues = list;
    this.headers = headers;
  }

  toOperationOutcome(): OperationOutcome {
    return operationOutcome(this.issues);
  }
}

export function operationOutcome(issues: Issue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => {
      const issue: OperationOutcomeIssue = { severity: i.severity, code: i.code, diagnostics: i.diagnostics };
      if (i.expression?.length) issue.expression = i.expression;
      return issue;
    }),
  };
}

export function issue(code: IssueCode, diagnostics: string, expression?: string, severity: IssueSeverity = 'error'): Issue {
  return expression ? { severity, code, diagnostics, expression: [expression] } : { severity, code, diagnostics };
}

export const badRequest = (diagnostics: string, expression?: string, code: IssueCode = 'invalid') =>
  new FhirError(400, issue(code, diagnostics, expression));
export const notFound = (diagnostics: string) => new FhirError(404, issue('not-found', diagnostics));
export const gone = (diagnostics: string) => new FhirError(410, issue('not-found', diagnostics));
export const forbidden = (diagnostics: string) => new FhirError(403, issue('forbidden', diagnostics));
export const methodNotAllowed = (diagnostics: string) => new FhirError(405, issue('not-supported', diagnostics));
export const conflict = (diagnostics: string) => new FhirError(409, issue('conflict', diagnostics));
export const preconditionFailed = (diagnostics: string) => new FhirError(412, issue('conflict', diagnostics));
export const unprocessable = (issues: Issue[]) => new FhirError(422, issues);

/** An OperationOutcome saying all went well (used for `Prefer: return=OperationOutcome`). */
export function allOk(diagnostics = 'All OK'): OperationOutcome {
  return operationOutcome([{ severity: 'information', code: 'informational', diagnostics }]);
}
