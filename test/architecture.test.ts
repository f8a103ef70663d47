import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../src/fhir/definitions/cache.js';

/**
 * The direction of dependencies that docs/architecture.md draws, checked on the import
 * statements of src/: each folder imports only the folders below it, the HTTP framework
 * is imported only where HTTP is served, and no import cycle crosses a folder.
 */

const SRC = resolve(projectRoot(), 'src');

/** What each folder may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  fhir: [],
  search: ['fhir'],
  store: ['fhir', 'search'],
  profiles: ['fhir', 'search', 'store'],
  terminology: ['fhir', 'search', 'profiles'],
  validation: ['fhir', 'profiles', 'terminology'],
  interactions: ['fhir', 'search', 'store', 'profiles', 'terminology', 'validation'],
  operations: ['fhir', 'search', 'store', 'profiles', 'terminology', 'validation', 'interactions'],
  pipeline: ['fhir', 'search', 'store', 'profiles', 'interactions'],
  data: ['fhir', 'search', 'store', 'profiles', 'terminology', 'validation', 'interactions'],
  auth: ['fhir', 'search', 'store', 'profiles', 'interactions', 'pipeline'],
  // The audit trail: the pipeline's record step, writing through the store's audit trail.
  audit: ['fhir', 'search', 'store', 'interactions', 'pipeline'],
  http: ['fhir', 'interactions', 'pipeline'],
  // The web explorer's server side: it serves files and reads the CapabilityStatement through a pipeline's dispatch.
  ui: ['fhir', 'interactions'],
  scripts: ['fhir', 'search', 'profiles'],
};
/** Where a Fastify import may appear: the HTTP server, and the plugins of the authorization server and the explorer. */
const HTTP_FOLDERS = new Set(['http', 'auth', 'ui']);

interface SourceFile {
  path: string;
  folder: string;
  imports: string[];
  packages: string[];
}

function sources(): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.contract.ts')) {
        const text = readFileSync(path, 'utf8');
        const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\('([^']+)'\)/g)].map((m) => (m[1] ?? m[2] ?? m[3])!);
        const parts = relative(SRC, path).split('/');
        out.push({
          path,
          folder: parts.length === 1 ? '(top)' : parts[0]!,
          imports: specifiers.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(path), s.replace(/\.js$/, '.ts'))),
          packages: specifiers.filter((s) => !s.startsWith('.')),
        });
      }
    }
  };
  walk(SRC);
  return out;
}

const folderOf = (path: string) => {
  const parts = relative(SRC, path).split('/');
  return parts.length === 1 ? '(top)' : parts[0]!;
};

describe('the architecture', () => {
  const files = sources();

  it('each folder imports only the folders below it', () => {
    const wrong: string[] = [];
    for (const f of files) {
      const allowed = ALLOWED[f.folder];
      if (!allowed) continue;
      for (const target of f.imports) {
        const to = folderOf(target);
        if (to !== f.folder && !allowed.includes(to)) wrong.push(`${relative(SRC, f.path)} imports ${relative(SRC, target)}`);
      }
    }
    expect(wrong).toEqual([]);
    // Every folder is placed somewhere (a new one must be added to the rules).
    const unplaced = [...new Set(files.map((f) => f.folder))].filter((d) => !(d in ALLOWED) && !['(top)', 'cli'].includes(d));
    expect(unplaced).toEqual([]);
  });

  it('imports the HTTP framework only where HTTP is served', () => {
    const wrong = files.filter((f) => !HTTP_FOLDERS.has(f.folder) && f.folder !== '(top)' && f.packages.some((p) => p === 'fastify' || p.startsWith('@fastify/')));
    expect(wrong.map((f) => relative(SRC, f.path))).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    const byPath = new Map(files.map((f) => [f.path, f]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (path: string) => {
      state.set(path, 'open');
      stack.push(path);
      for (const next of byPath.get(path)?.imports ?? []) {
        if (state.get(next) === 'open') {
          const cycle = stack.slice(stack.indexOf(next));
          if (new Set(cycle.map(folderOf)).size > 1) cycles.push(cycle.map((p) => relative(SRC, p)).join(' -> '));
        } else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(path, 'done');
    };
    for (const f of files) if (!state.has(f.path)) visit(f.path);
    expect(cycles).toEqual([]);
  });
});
