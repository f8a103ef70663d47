import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * SQLite files in temporary folders for the tests of a file (call at its top level or in a
 * describe): each call of the function returned is a fresh folder's `ccri.sqlite`, and the
 * folders are removed after each test.
 */
export function tempSqliteFiles(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return join(dir, 'ccri.sqlite');
  };
}
