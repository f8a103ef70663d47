import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';

interface Chunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

const dir = join(projectRoot(), 'dist', 'web');
const LIMIT = 300 * 1024;

/**
 * The JavaScript and CSS a browser fetches to show a page for the first time:
 * the entry, its stylesheet, the page's own chunk, what the page loads as it
 * draws (its dynamic imports) and everything these import statically (Vite's
 * manifest lists them), each gzipped as the server sends it.
 */
function firstVisit(manifest: Record<string, Chunk>, page: string): { files: string[]; gzipped: number } {
  const files = new Set<string>();
  const visit = (key: string) => {
    const c = manifest[key];
    if (!c || files.has(c.file)) return;
    files.add(c.file);
    for (const css of c.css ?? []) files.add(css);
    for (const i of c.imports ?? []) visit(i);
  };
  visit('index.html');
  visit(page);
  for (const d of manifest[page]?.dynamicImports ?? []) visit(d);
  const gzipped = [...files].reduce((sum, f) => sum + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
  return { files: [...files], gzipped };
}

describe('explorer bundle size', () => {
  it('has been built (npm test builds first)', () => {
    expect(existsSync(join(dir, '.vite', 'manifest.json')), 'run npm run build').toBe(true);
  });

  const manifest = existsSync(join(dir, '.vite', 'manifest.json')) ? (JSON.parse(readFileSync(join(dir, '.vite', 'manifest.json'), 'utf8')) as Record<string, Chunk>) : {};
  const pages = Object.keys(manifest).filter((k) => k.startsWith('src/pages/'));

  it('splits the pages into chunks of their own', () => {
    expect(pages).toEqual(expect.arrayContaining(['src/pages/home.ts', 'src/pages/patient-record.ts', 'src/pages/api-docs.ts']));
  });

  it('sends under 300 KB of compressed JavaScript and CSS for a first visit to the home page', () => {
    const home = firstVisit(manifest, 'src/pages/home.ts');
    console.log(`first visit to /: ${(home.gzipped / 1024).toFixed(1)} KB gzipped (${home.files.join(', ')})`);
    expect(home.gzipped).toBeLessThan(LIMIT);
  });

  it('stays under 300 KB for a first visit to any page but the API documentation', () => {
    for (const page of pages) {
      const { gzipped } = firstVisit(manifest, page);
      console.log(`first visit, ${page}: ${(gzipped / 1024).toFixed(1)} KB gzipped`);
      // Swagger UI alone is larger than the limit: it loads only on the API documentation page, never elsewhere.
      if (page !== 'src/pages/api-docs.ts') expect(gzipped, page).toBeLessThan(LIMIT);
    }
  });

  it('keeps Swagger UI and the chart library out of the first visit', () => {
    const home = firstVisit(manifest, 'src/pages/home.ts');
    expect(home.files.some((f) => /swagger/i.test(f))).toBe(false);
    const record = manifest['src/pages/patient-record.ts']!.file;
    expect(home.files).not.toContain(record);
  });
});
