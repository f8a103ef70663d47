import type { Command } from 'commander';
import { isObjectLine, messageOf } from '../data/import/parse.js';
import { expandSources, NDJSON_NAME, SKIPPED } from '../data/import/sources.js';
import { parseJson } from '../fhir/json.js';
import type { Issue } from '../fhir/outcome.js';
import { parseXml } from '../fhir/xml.js';
import { ConformanceIndex, layered, type ConformanceSource } from '../fhir/conformance.js';
import { careConnectCatalogue } from '../validation/profile/catalogue.js';
import { validateResourceWith } from '../validation/profile/index.js';
import { terminologyClient, terminologyConfig } from '../config.js';
import type { RemoteTerminology } from '../terminology/remote.js';
import { count } from './text.js';

/**
 * `ccri validate <files|dirs|->`: validates FHIR resources (JSON, XML, NDJSON; a
 * Bundle as a whole, its entries included) against the STU3 base definitions, the
 * profiles they claim and any asked for with `--profile`, using the server's
 * conformance resources (the Care Connect ones, and the official STU3 package) plus
 * any given with `--definitions`. Prints a table of issues and exits non-zero when
 * there are errors. Needs no store.
 */

export interface ValidateCommandOptions {
  /** Profiles every resource of the matching type is validated against. */
  profiles?: string[];
  /** Extra StructureDefinitions, ValueSets and CodeSystems (files or directories). */
  definitions?: string[];
  /** Where lines go (standard output by default). */
  out?: (line: string) => void;
  /** Standard input, for "-". */
  stdin?: () => Promise<string>;
  /**
   * A remote FHIR terminology server to ask about the codes the server's own terminology cannot
   * judge (SNOMED CT …): `--tx`, else CCRI_TERMINOLOGY_URL; 'off' for none.
   */
  tx?: string;
}

export interface ValidateSummary {
  files: number;
  resources: number;
  errors: number;
  warnings: number;
}

interface Row {
  file: string;
  location: string;
  severity: string;
  message: string;
}

export async function runValidate(paths: readonly string[], options: ValidateCommandOptions = {}): Promise<ValidateSummary> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const skipped: string[] = [];
  const sources = await expandSources(paths, { ...(options.stdin ? { stdin: options.stdin } : {}), onSkipped: (path) => skipped.push(path) });
  const source = await conformanceSource(options.definitions ?? []);
  const profiles = options.profiles ?? [];
  const txUrl = options.tx ?? process.env.CCRI_TERMINOLOGY_URL;
  const remote = txUrl && txUrl !== 'off' ? terminologyClient(terminologyConfig(txUrl)) : undefined;
  try {
    return await validateAll(sources, skipped, source, profiles, remote, out);
  } finally {
    await remote?.close();
  }
}

async function validateAll(sources: Awaited<ReturnType<typeof expandSources>>, skipped: string[], source: ConformanceSource, profiles: string[], remote: RemoteTerminology | undefined, out: (line: string) => void): Promise<ValidateSummary> {
  const rows: Row[] = [];
  const summary: ValidateSummary = { files: sources.length, resources: 0, errors: 0, warnings: 0 };
  for (const file of sources) {
    let units: Parsed[];
    try {
      units = parseAll(await file.read(), file.name);
    } catch (err) {
      units = [{ error: err instanceof Error ? err.message : String(err) }];
    }
    for (const unit of units) {
      // A position (an NDJSON line) names the place, as `ccri import` does.
      const name = unit.position ? `${file.name}: ${unit.position}` : file.name;
      if ('error' in unit) {
        rows.push({ file: name, location: '', severity: 'error', message: unit.error });
        summary.errors++;
        continue;
      }
      summary.resources++;
      for (const issue of await validateOne(unit.resource, source, profiles, remote)) {
        if (issue.severity === 'information') continue;
        if (issue.severity === 'error' || issue.severity === 'fatal') summary.errors++;
        else summary.warnings++;
        const location = issue.expression?.[0] ?? '';
        const message = location && issue.diagnostics.startsWith(`${location}: `) ? issue.diagnostics.slice(location.length + 2) : issue.diagnostics;
        rows.push({ file: name, location, severity: issue.severity, message });
      }
    }
  }
  for (const path of skipped) out(`${path}: ${SKIPPED}`);
  printTable(rows, out);
  out(`${count(summary.resources, 'resource')} in ${count(summary.files, 'file')}: ${count(summary.errors, 'error')}, ${count(summary.warnings, 'warning')}.`);
  return summary;
}

/** A resource, with the requested profiles applied to it, or to the entries of a Bundle whose type they constrain. */
async function validateOne(resource: unknown, source: ConformanceSource, profiles: string[], remote: RemoteTerminology | undefined): Promise<Issue[]> {
  const r = resource as Record<string, unknown> | null;
  const type = r && typeof r === 'object' ? r.resourceType : undefined;
  const applies = (t: unknown) => profiles.filter((p) => source.structureDefinition(p)?.type === t || !source.structureDefinition(p));
  const issues = await validateResourceWith(resource, { source, profiles: applies(type) }, remote);
  if (type !== 'Bundle' || !profiles.length || !Array.isArray(r!.entry)) return issues;
  const seen = new Set(issues.map(key));
  for (const [i, e] of (r!.entry as unknown[]).entries()) {
    const entry = (e as { resource?: Record<string, unknown> } | null)?.resource;
    const wanted = entry ? applies(entry.resourceType).filter((p) => source.structureDefinition(p)) : [];
    if (!entry || !wanted.length) continue;
    for (const issue of await validateResourceWith(entry, { source, profiles: wanted, path: `Bundle.entry[${i}].resource` }, remote)) {
      if (!seen.has(key(issue))) issues.push(issue);
      seen.add(key(issue));
    }
  }
  return issues;
}

function key(i: Issue): string {
  return `${i.severity}\u0000${i.expression?.[0] ?? ''}\u0000${i.diagnostics}`;
}

/** A resource read from a file, or why one could not be; with its line in NDJSON. */
type Parsed = ({ resource: unknown } | { error: string }) & { position?: string };

/**
 * The resources in a text: one JSON or XML resource, or NDJSON (by its name, or several
 * lines the first of which is a whole JSON object), each line on its own: a bad line is
 * an error at its line number, and the others are still validated.
 */
function parseAll(text: string, name: string): Parsed[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) return [{ resource: parseXml(text) }];
  const firstLine = trimmed.indexOf('\n');
  const severalObjects = firstLine >= 0 && trimmed.slice(firstLine).trim() !== '' && isObjectLine(trimmed.slice(0, firstLine));
  if (!NDJSON_NAME.test(name) && !severalObjects) return [{ resource: parseJson(text) }];
  const parsed: Parsed[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const position = `line ${i + 1}`;
    try {
      parsed.push({ resource: parseJson(line), position });
    } catch (err) {
      parsed.push({ error: messageOf(err), position });
    }
  });
  return parsed;
}

async function conformanceSource(paths: string[]): Promise<ConformanceSource> {
  const base = careConnectCatalogue().source;
  if (!paths.length) return base;
  const extra = new ConformanceIndex();
  for (const r of await readDefinitions(paths)) extra.add(r);
  return layered(extra, base);
}

/** The resources in definition files or folders (JSON, XML, NDJSON; the entries of a Bundle too); a file that does not parse is an error naming it. */
export async function readDefinitions(paths: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (const s of await expandSources(paths)) {
    for (const r of parseAll(await s.read(), s.name)) {
      if ('error' in r) throw new Error(`${s.name}${r.position ? `: ${r.position}` : ''}: ${r.error}`);
      const resource = r.resource as Record<string, unknown> | null;
      if (!resource || typeof resource !== 'object') continue;
      if (resource.resourceType === 'Bundle' && Array.isArray(resource.entry)) {
        for (const e of resource.entry as Array<{ resource?: Record<string, unknown> } | null>) if (e?.resource && typeof e.resource === 'object') out.push(e.resource);
      } else out.push(resource);
    }
  }
  return out;
}

function printTable(rows: Row[], out: (line: string) => void): void {
  if (!rows.length) return;
  const header: Row = { file: 'file', location: 'location', severity: 'severity', message: 'message' };
  const width = (k: keyof Row) => Math.min(60, Math.max(...[header, ...rows].map((r) => r[k].length)));
  const w = { file: width('file'), location: width('location'), severity: width('severity') };
  const line = (r: Row) => `${r.file.padEnd(w.file)}  ${r.location.padEnd(w.location)}  ${r.severity.padEnd(w.severity)}  ${r.message}`;
  out(line(header));
  out(line({ file: '-'.repeat(w.file), location: '-'.repeat(w.location), severity: '-'.repeat(w.severity), message: '-'.repeat(7) }));
  for (const r of rows) out(line(r));
}

export function validateCommand(program: Command): void {
  program
    .command('validate')
    .description('validate FHIR resources and Bundles (JSON, XML, NDJSON) against the STU3 definitions and the Care Connect profiles')
    .argument('<paths...>', 'files, directories (searched recursively) or - for standard input')
    .option('--profile <url>', 'also validate against this profile (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--definitions <path>', 'extra StructureDefinitions, ValueSets and CodeSystems to use (file or directory, repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--tx <url>', 'a FHIR STU3 terminology server to ask about SNOMED CT and other code systems the server does not hold (env CCRI_TERMINOLOGY_URL; off for none)')
    .action(async (paths: string[], opts: { profile: string[]; definitions: string[]; tx?: string }) => {
      const summary = await runValidate(paths, { profiles: opts.profile, definitions: opts.definitions, ...(opts.tx !== undefined ? { tx: opts.tx } : {}) });
      if (summary.errors > 0) process.exitCode = 1;
    });
}

