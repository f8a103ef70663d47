/**
 * Configuration: command-line flags win over environment variables, which win over
 * the defaults here. Every setting is listed in the README.
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** The public base URL of the FHIR API; defaults to http://localhost:{port}/STU3. */
  baseUrl: string;
  basePath: string;
  defaultCount: number;
  maxCount: number;
  /** Signs paging cursors; when unset, a secret is generated once and kept in the store. */
  cursorSecret?: string;
  /**
   * Profile validation of writes: off; warn (log, and return with Prefer: return=OperationOutcome);
   * enforce (422 on errors); claimed (enforce for resources that claim a profile in meta.profile,
   * warn for the rest).
   */
  validation: ValidationSetting;
  /**
   * Search parameters the server does not know or support: strict (400, listing the valid
   * ones) or lenient (ignored, with a warning in the Bundle). `Prefer: handling=` overrides it.
   */
  searchHandling: SearchHandling;
  bodyLimit: number;
  logLevel: string;
  /** Load the demo data set when the store is empty. */
  demoData: boolean;
  /** Opens dynamic client registration (RFC 7591) at /auth/register, requiring this as the initial access token. */
  registrationToken?: string;
  /**
   * Lets the authorization server fetch a client's JWKS (jwks_uri) from loopback and private
   * addresses. Off by default: such fetches are refused, so that a registration cannot make
   * the server call into its own network (SSRF).
   */
  authFetchPrivate: boolean;
}

export type ValidationSetting = 'off' | 'warn' | 'enforce' | 'claimed';
const VALIDATION_SETTINGS: readonly string[] = ['off', 'warn', 'enforce', 'claimed'];
export type SearchHandling = 'strict' | 'lenient';

export type ConfigOverrides = Partial<Omit<Config, 'baseUrl'>> & { baseUrl?: string };

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not '${value}'`);
  return n;
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const port = overrides.port ?? int('PORT', env.CCRI_PORT ?? env.PORT, 8080);
  const basePath = overrides.basePath ?? '/STU3';
  const validation = (overrides.validation ?? env.CCRI_VALIDATION ?? 'claimed') as Config['validation'];
  if (!VALIDATION_SETTINGS.includes(validation)) throw new Error(`CCRI_VALIDATION must be off, warn, enforce or claimed, not '${validation}'`);
  const searchHandling = (overrides.searchHandling ?? env.CCRI_SEARCH_HANDLING ?? 'strict') as SearchHandling;
  if (searchHandling !== 'strict' && searchHandling !== 'lenient') throw new Error(`CCRI_SEARCH_HANDLING must be strict or lenient, not '${String(searchHandling)}'`);
  const config: Config = {
    port,
    host: overrides.host ?? env.CCRI_HOST ?? 'localhost',
    dataDir: overrides.dataDir ?? env.CCRI_DATA_DIR ?? 'data',
    baseUrl: (overrides.baseUrl ?? env.CCRI_BASE_URL ?? `http://localhost:${port}${basePath}`).replace(/\/+$/, ''),
    basePath,
    defaultCount: overrides.defaultCount ?? int('CCRI_DEFAULT_COUNT', env.CCRI_DEFAULT_COUNT, 10),
    maxCount: overrides.maxCount ?? int('CCRI_MAX_COUNT', env.CCRI_MAX_COUNT, 100),
    validation,
    searchHandling,
    bodyLimit: overrides.bodyLimit ?? int('CCRI_BODY_LIMIT', env.CCRI_BODY_LIMIT, 16 * 1024 * 1024),
    logLevel: overrides.logLevel ?? env.CCRI_LOG_LEVEL ?? 'info',
    demoData: overrides.demoData ?? env.CCRI_DEMO_DATA !== 'false',
    authFetchPrivate: overrides.authFetchPrivate ?? env.CCRI_AUTH_FETCH_PRIVATE === 'true',
  };
  const databaseUrl = overrides.databaseUrl ?? env.DATABASE_URL;
  if (databaseUrl) config.databaseUrl = databaseUrl;
  const cursorSecret = overrides.cursorSecret ?? env.CCRI_CURSOR_SECRET;
  if (cursorSecret) config.cursorSecret = cursorSecret;
  const registrationToken = overrides.registrationToken ?? env.CCRI_REGISTRATION_TOKEN;
  if (registrationToken) config.registrationToken = registrationToken;
  return config;
}
