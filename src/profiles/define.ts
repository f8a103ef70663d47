import type { CodeSystemDef, ExtensionDef, ProfileDef, ValueSetDef } from './dsl.js';
import { ccCodeSystem, ccExtension, ccProfile, ccValueSet, idOf } from './urls.js';

/** Constructors that fill in the canonical URL and name from the short name. */

type Body<T> = Omit<T, 'kind' | 'url' | 'name'>;

/** `CareConnect-<name>-1` on the core resource `type` (defaults to `name`). */
export function careConnectProfile(name: string, def: Omit<Body<ProfileDef>, 'type'> & { type?: string }): ProfileDef {
  const url = ccProfile(name);
  return { kind: 'profile', url, name: idOf(url), type: def.type ?? name, ...def };
}

/** `Extension-CareConnect-<name>-1`. */
export function careConnectExtension(name: string, def: Body<ExtensionDef>): ExtensionDef {
  const url = ccExtension(name);
  return { kind: 'extension', url, name: idOf(url), ...def };
}

/** An extension with its own URL (an HL7 extension that Care Connect re-publishes, or the SNOMED CT description id). */
export function extensionAt(url: string, def: Body<ExtensionDef>): ExtensionDef {
  return { kind: 'extension', url, name: idOf(url), ...def };
}

export function careConnectCodeSystem(name: string, def: Body<CodeSystemDef>): CodeSystemDef {
  const url = ccCodeSystem(name);
  return { kind: 'codesystem', url, name: idOf(url), caseSensitive: true, ...def };
}

export function careConnectValueSet(name: string, def: Body<ValueSetDef>, version = 1): ValueSetDef {
  const url = ccValueSet(name, version);
  return { kind: 'valueset', url, name: idOf(url), ...def };
}
