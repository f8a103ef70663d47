import type { Command } from 'commander';
import { expandSources } from '../data/import/sources.js';
import { parseJson } from '../fhir/json.js';
import { FhirError, type Issue } from '../fhir/outcome.js';
import { parseXml } from '../fhir/xml.js';
import { ConformanceIndex, layered, type ConformanceSource } from '../fhir/conformance.js';
import { careConnectCatalogue } from '../validation/profile/catalogue.js';
import { validateResource } from '../validation/profile/index.js';

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
  const sources = await expandSources(paths, ...(options.stdin ? [options.stdin] : []));
  const source = await conformanceSource(options.definitions ?? []);
  const profiles = options.profiles ?? [];
  const rows: Row[] = [];
  const summary: ValidateSummary = { files: sources.length, resources: 0, errors: 0, warnings: 0 };
  for (const file of sources) {
    let resources: unknown[];
    try {
      resources = parseAll(await file.read(), file.name);
    } catch (err) {
      rows.push({ file: file.name, location: '', severity: 'error', message: err instanceof Error ? err.message : String(err) });
      summary.errors++;
      continue;
    }
    resources.forEach((resource, i) => {
      summary.resources++;
      const name = resources.length > 1 ? `${file.name}#${i + 1}` : file.name;
      for (const issue of validateOne(resource, source, profiles)) {
        if (issue.severity === 'information') continue;
        if (issue.severity === 'error' || issue.severity === 'fatal') summary.errors++;
        else summary.warnings++;
        const location = issue.expression?.[0] ?? '';
        const message = location && issue.diagnostics.startsWith(`${location}: `) ? issue.diagnostics.slice(location.length + 2) : issue.diagnostics;
        rows.push({ file: name, location, severity: issue.severity, message });
      }
    });
  }
  printTable(rows, out);
  out(`${summary.resources} resource(s) in ${summary.files} file(s): ${summary.errors} error(s), ${summary.warnings} warning(s).`);
  return summary;
}

/** A resource, with the requested profiles applied to it, or to the entries of a Bundle whose type they constrain. */
function validateOne(resource: unknown, source: ConformanceSource, profiles: string[]): Issue[] {
  const r = resource as Record<string, unknown> | null;
  const type = r && typeof r === 'object' ? r.resourceType : undefined;
  const applies = (t: unknown) => profiles.filter((p) => source.structureDefinition(p)?.type === t || !source.structureDefinition(p));
  const issues = validateResource(resource, { source, profiles: applies(type) });
  if (type !== 'Bundle' || !profiles.length || !Array.isArray(r!.entry)) return issues;
  const seen = new Set(issues.map(key));
  r!.entry.forEach((e: unknown, i: number) => {
    const entry = (e as { resource?: Record<string, unknown> } | null)?.resource;
    const wanted = entry ? applies(entry.resourceType).filter((p) => source.structureDefinition(p)) : [];
    if (!entry || !wanted.length) return;
    for (const issue of validateResource(entry, { source, profiles: wanted, path: `Bundle.entry[${i}].resource` })) {
      if (!seen.has(key(issue))) issues.push(issue);
      seen.add(key(issue));
    }
  });
  return issues;
}

function key(i: Issue): string {
  return `${i.severity}\u0000${i.expression?.[0] ?? ''}\u0000${i.diagnostics}`;
}

/** The resources in a text: one JSON or XML resource, or NDJSON (one per line). */
function parseAll(text: string, name: string): unknown[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) return [parseXml(text)];
  if (/\.(ndjson|jsonl)$/i.test(name)) return text.split('\n').filter((l) => l.trim()).map((l) => parseJson(l));
  try {
    return [parseJson(text)];
  } catch (err) {
    // Several JSON objects on separate lines (NDJSON on standard input).
    const lines = text.split('\n').filter((l) => l.trim());
    if (lines.length > 1 && lines.every((l) => l.trim().startsWith('{'))) return lines.map((l) => parseJson(l));
    throw err instanceof FhirError ? err : new Error(String(err));
  }
}

async function conformanceSource(paths: string[]): Promise<ConformanceSource> {
  const base = careConnectCatalogue().source;
  if (!paths.length) return base;
  const extra = new ConformanceIndex();
  for (const s of await expandSources(paths)) {
    for (const r of parseAll(await s.read(), s.name)) if (r && typeof r === 'object') extra.add(r as Record<string, unknown>);
  }
  return layered(extra, base);
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
    .action(async (paths: string[], opts: { profile: string[]; definitions: string[] }) => {
      const summary = await runValidate(paths, { profiles: opts.profile, definitions: opts.definitions });
      if (summary.errors > 0) process.exitCode = 1;
    });
}

