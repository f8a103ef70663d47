/**
 * The few shapes the explorer reads, kept loose on purpose: it shows whatever
 * the server holds, so every field is optional and anything else may be there.
 */
export interface Resource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string; lastUpdated?: string; profile?: string[] };
  [key: string]: unknown;
}

export interface BundleLink {
  relation: string;
  url: string;
}

export interface Bundle<T extends Resource = Resource> extends Resource {
  type?: string;
  total?: number;
  link?: BundleLink[];
  entry?: Array<{ fullUrl?: string; resource?: T; search?: { mode?: string }; request?: { method?: string; url?: string }; response?: { status?: string; etag?: string; lastModified?: string } }>;
}

export interface Issue {
  severity?: string;
  code?: string;
  details?: { text?: string };
  diagnostics?: string;
  location?: string[];
  expression?: string[];
}

export interface OperationOutcome extends Resource {
  issue?: Issue[];
}

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}

export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}

export interface Reference {
  reference?: string;
  display?: string;
}

export interface Quantity {
  value?: number;
  unit?: string;
  code?: string;
  comparator?: string;
}

export interface HumanName {
  use?: string;
  text?: string;
  family?: string;
  given?: string[];
  prefix?: string[];
}

export interface Address {
  use?: string;
  line?: string[];
  city?: string;
  district?: string;
  postalCode?: string;
  text?: string;
}

export interface Identifier {
  system?: string;
  value?: string;
}

/**
 * A resource read field by field. The explorer shows whatever the server holds,
 * so each page checks the shapes it uses rather than trusting a type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fields = Record<string, any>;
