import type { Command } from 'commander';
import { type Config, type ConfigOverrides, loadConfig } from '../config.js';

/** The store options every subcommand shares. */
export function storeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'folder of the SQLite store (env CCRI_DATA_DIR)', undefined)
    .option('--database-url <url>', 'postgres://… to use PostgreSQL instead of SQLite (env DATABASE_URL)', undefined);
}

export function configFrom(opts: Record<string, unknown>): Config {
  const o: ConfigOverrides = {};
  if (opts.port !== undefined) o.port = Number(opts.port);
  if (typeof opts.host === 'string') o.host = opts.host;
  if (typeof opts.dataDir === 'string') o.dataDir = opts.dataDir;
  if (typeof opts.databaseUrl === 'string') o.databaseUrl = opts.databaseUrl;
  if (typeof opts.baseUrl === 'string') o.baseUrl = opts.baseUrl;
  if (opts.demoData === false) o.demoData = false;
  if (typeof opts.tlsCert === 'string' || typeof opts.tlsKey === 'string') o.tls = { cert: String(opts.tlsCert ?? ''), key: String(opts.tlsKey ?? '') };
  return loadConfig(o);
}
