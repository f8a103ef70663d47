import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { type Config, type ConfigOverrides, loadConfig } from '../config.js';
import { withoutPassword } from '../store/url.js';
import { sqliteFile } from '../store/open.js';

/** The store options every subcommand shares. */
export function storeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'folder of the SQLite store (env CCRI_DATA_DIR)', undefined)
    .option('--database-url <url>', 'postgres://… or postgresql://… to use PostgreSQL instead of SQLite (env DATABASE_URL)', undefined);
}

export function configFrom(opts: Record<string, unknown>): Config {
  const o: ConfigOverrides = {};
  if (typeof opts.port === 'number') o.port = opts.port;
  if (typeof opts.host === 'string') o.host = opts.host;
  if (typeof opts.dataDir === 'string') o.dataDir = opts.dataDir;
  if (typeof opts.databaseUrl === 'string') o.databaseUrl = opts.databaseUrl;
  if (typeof opts.baseUrl === 'string') o.baseUrl = opts.baseUrl;
  if (opts.demoData === false) o.demoData = false;
  if (typeof opts.workers === 'number') o.workers = opts.workers;
  if (Array.isArray(opts.definitions)) o.definitions = opts.definitions as string[];
  if (typeof opts.tlsCert === 'string' || typeof opts.tlsKey === 'string') o.tls = { cert: String(opts.tlsCert ?? ''), key: String(opts.tlsKey ?? '') };
  return loadConfig(o);
}

/**
 * A commander parser for a whole-number option from `min` to `max`: a bad value stops the
 * command before it does anything, with commander's message naming the option.
 */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    if (min === 1 && max === Number.MAX_SAFE_INTEGER) throw new InvalidArgumentError('It must be a positive whole number.');
    if (max === Number.MAX_SAFE_INTEGER) throw new InvalidArgumentError(`It must be a whole number, ${min} or more.`);
    throw new InvalidArgumentError(`It must be a whole number from ${min} to ${max}.`);
  };
}

/**
 * What a configuration opens, fit to print: the SQLite file, or the PostgreSQL host and
 * database (never the password).
 */
export function storeLabel(config: Config): string {
  if (!config.databaseUrl) return `SQLite file ${sqliteFile(config.dataDir)}`;
  try {
    const url = new URL(config.databaseUrl);
    const host = url.hostname ? `${decodeURIComponent(url.hostname)}${url.port ? `:${url.port}` : ''}` : (url.searchParams.get('host') ?? 'the default host');
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(the user\'s default)';
    return `PostgreSQL database ${database} on ${host}`;
  } catch {
    return `PostgreSQL at ${withoutPassword(config.databaseUrl)}`;
  }
}

/**
 * Commands that read a store or add to one (all but `serve` and `seed`) refuse a data
 * directory that holds none, rather than create an empty store there: a mistyped
 * --data-dir would otherwise export nothing, successfully. (A PostgreSQL database is
 * taken as named.)
 */
export function requireStore(config: Config, hint = '`ccri serve` or `ccri seed` creates one'): void {
  if (config.databaseUrl) return;
  const file = sqliteFile(config.dataDir);
  if (!existsSync(file)) throw new Error(`There is no store in ${config.dataDir} (no ${file}): check --data-dir or CCRI_DATA_DIR; ${hint}.`);
}

/** A file to write, opened now so that a bad path is a clear error rather than a stream's late 'error'. */
export async function outputFile(path: string): Promise<WriteStream> {
  const out = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`${path}: cannot be written (${err.code === 'ENOENT' ? 'no such directory' : (err.code ?? err.message)})`)));
  });
  return out;
}
