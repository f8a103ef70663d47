import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Bump when any derivation changes shape, so stale caches are rebuilt.
 * The cache is keyed by this and by the definitions package version.
 */
export const DERIVATION_VERSION = 3;

let rootDir: string | undefined;

/** The project's root: the nearest folder above this file holding package.json. */
export function projectRoot(): string {
  if (rootDir) return rootDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  rootDir = dir;
  return dir;
}

export function cacheDir(): string {
  return process.env.CCRI_CACHE_DIR ?? join(projectRoot(), '.cache', 'definitions');
}

interface CacheFile<T> {
  key: string;
  value: T;
}

/**
 * Returns the cached derivation named `name`, deriving (and caching) it when the
 * cache is missing or was written by another derivation version. A cache that cannot
 * be written (read-only install) is not an error: the value is simply derived again
 * at the next start.
 */
export function cached<T>(name: string, derive: () => T): T {
  const key = `v${DERIVATION_VERSION}`;
  const file = join(cacheDir(), `${name}.json`);
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as CacheFile<T>;
      if (parsed.key === key) return parsed.value;
    } catch {
      // A torn or corrupt cache is rebuilt below.
    }
  }
  const value = derive();
  try {
    mkdirSync(cacheDir(), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key, value } satisfies CacheFile<T>));
    renameSync(tmp, file);
  } catch {
    // Read-only location: carry on with the derived value.
  }
  return value;
}
