import cluster from 'node:cluster';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { type Config, MAX_WORKERS, workerNodeName } from '../config.js';
import type { Server } from '../server.js';
import { configFrom, storeLabel, storeOptions, wholeNumber } from './options.js';
import { type Listening, runPrimary, type StopMessage, WORKER_INDEX } from './workers.js';

export function serveCommand(program: Command): void {
  storeOptions(
    program
      .command('serve')
      .description('serve the FHIR STU3 API and the web explorer (and load the demo data into an empty store)')
      .option('-p, --port <port>', 'port to listen on, 0 for any free one (env CCRI_PORT or PORT; default 8080)', wholeNumber(0, 65535))
      .option('--host <host>', 'interface to listen on (env CCRI_HOST; default localhost; 0.0.0.0 for all)')
      .option('--base-url <url>', 'public base URL used in links (env CCRI_BASE_URL; default http://localhost:<port>/STU3)')
      .option('--no-demo-data', 'do not load the demo data into an empty store (env CCRI_DEMO_DATA=false)')
      .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (env CCRI_TLS_CERT; with --tls-key)')
      .option('--tls-key <file>', 'the PEM private key of --tls-cert (env CCRI_TLS_KEY)')
      .option('--workers <n>', `serve from this many processes sharing the port, each a node of its own (env CCRI_WORKERS; default 1, at most ${MAX_WORKERS})`, wholeNumber(1, MAX_WORKERS))
      .option('--definitions <path>', 'also hold the CodeSystems and ValueSets in this file or folder, for validation, search and the terminology operations (repeatable; env CCRI_DEFINITIONS, comma-separated)', (v: string, acc: string[] | undefined) => [...(acc ?? []), v]),
  ).action(async (opts: Record<string, unknown>) => {
    let config = configFrom(opts);
    // Port 0: a free port is chosen now, so that the base URL in links can name it (the workers are given it).
    if (config.port === 0) config = configFrom({ ...opts, port: await freePort(config.host) });
    const index = cluster.isWorker ? Number(process.env[WORKER_INDEX]) : undefined;
    if (index === undefined && config.workers > 1) {
      // The primary opens no store and serves nothing: it forks the workers, keeps them running, and stops them.
      // A later --port wins over an earlier one: every worker listens on the port chosen here.
      return runPrimary(config, [...process.argv.slice(2), '--port', String(config.port)]);
    }
    if (index !== undefined) {
      if (!Number.isInteger(index) || index < 1) throw new Error(`${WORKER_INDEX} must name this worker (1, 2, …), not '${process.env[WORKER_INDEX]}'`);
      config = { ...config, nodeName: workerNodeName(config.nodeName, index) };
    }
    await serve(config, index);
  });
}

/**
 * Serves on this process: `ccri serve` itself, or worker `index` of `ccri serve --workers`,
 * which leaves the banner to its primary (it sends what the banner says) and stops when the
 * primary asks it to.
 */
async function serve(config: Config, index: number | undefined): Promise<void> {
  // Loaded here, not by the primary of --workers, which serves nothing.
  const [{ createServer }, { holdDefinitions }, { readDefinitions }] = await Promise.all([import('../server.js'), import('../profiles/conformance.js'), import('./validate.js')]);
  if (config.definitions.length) holdDefinitions(await readDefinitions(config.definitions));
  const server = await createServer(config);
  const who = index === undefined ? 'ccri' : `ccri (worker ${index})`;
  // A graceful stop: no new connections, in-flight requests finish (new ones on open connections get 503), then the
  // audit trail and the store are closed. Requests still running after the grace period are cut, and the exit says so.
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const limit = setTimeout(() => {
      console.error(`${who}: requests still running ${config.shutdownGraceMs} ms after ${signal} (CCRI_SHUTDOWN_GRACE_MS) were cut off.`);
      process.exit(1);
    }, config.shutdownGraceMs);
    limit.unref();
    try {
      await server.close();
    } catch (err) {
      // Said in a line, not a stack: the store's files removed under a running server, say.
      const code = (err as { code?: unknown }).code;
      console.error(`${who}: stopped after ${signal}, but not cleanly: ${err instanceof Error ? err.message : String(err)}${typeof code === 'string' ? ` (${code})` : ''}.`);
      process.exit(1);
    }
    clearTimeout(limit);
    // A worker's primary says that the whole server stopped, once every worker has.
    if (index === undefined) console.log(`ccri stopped (${signal}).`);
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  if (index !== undefined) {
    process.on('message', (message: unknown) => {
      const m = message as Partial<StopMessage> | null;
      if (m?.ccri === 'stop') void shutdown(m.signal ?? 'SIGTERM');
    });
  }
  let address: string;
  try {
    address = await server.app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await server.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`Port ${config.port} on ${config.host} is already in use (by another ccri, or another server): choose another with --port or CCRI_PORT (0 for any free port).`);
    if (code === 'EACCES') throw new Error(`Port ${config.port} on ${config.host} needs privileges this user does not have: choose a port above 1023 with --port or CCRI_PORT.`);
    throw err;
  }
  const banner = bannerOf(config, server, address);
  if (index !== undefined) {
    process.send!(banner);
    return;
  }
  console.log(`FHIR STU3 API at ${banner.bases}, listening on ${address} (process ${process.pid})`);
  for (const line of [...banner.lines, ...banner.demoUsers]) console.log(line);
}

/** What the start banner says (the first line, `FHIR STU3 API at <bases>, listening on <address> (process <pid>)`, is made by whoever prints it). */
function bannerOf(config: Config, server: Server, address: string): Listening {
  const bases = [server.bases.open ? `${config.baseUrl} (open${config.openApi === 'read' ? ', read-only' : ''})` : undefined, server.bases.secure ? `${config.secureBaseUrl} (secure)` : undefined].filter(Boolean);
  const lines = [`Store: ${storeLabel(config)}`];
  if (config.terminology) lines.push(`Terminology server: ${config.terminology.url} (for ${config.terminology.systems === '*' ? 'every code system this server does not hold' : config.terminology.systems.join(', ')})`);
  lines.push(`Web explorer at ${new URL('/', config.baseUrl).href}`);
  // Behind a trusted proxy, links name the host the proxy says the client reached instead.
  const note = config.trustProxy ? undefined : linksNameThisMachineOnly(config.host, config.baseUrl);
  if (note) lines.push(note);
  const demoUsers: string[] = [];
  if (server.auth && server.demoUsers.length) {
    // Shown once, here, never logged: only this start knows them (the store keeps scrypt hashes).
    demoUsers.push(`Demo users for signing in at ${server.auth.issuer.issuer} (for a local copy only; they are not shown again):`);
    for (const u of server.demoUsers) demoUsers.push(`  ${u.username} / ${u.password}  ${u.is}`);
  }
  return { ccri: 'listening', address, bases: bases.join(' and '), lines, demoUsers };
}

/** Whether a host name or address names this machine only. */
function loopbackName(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h.startsWith('127.') || h === '::ffff:127.0.0.1';
}

/**
 * A note for the banner when the server listens where other machines reach it, but its base URL
 * names this machine only (the default, http://localhost:<port>/STU3): every link it sends
 * (Bundle links, Location, the explorer's API calls, the sign-in pages) would then lead a client
 * on another machine to itself.
 */
export function linksNameThisMachineOnly(host: string, baseUrl: string): string | undefined {
  if (loopbackName(host)) return undefined;
  const url = new URL(baseUrl);
  if (!loopbackName(url.hostname)) return undefined;
  return (
    `Note: listening on ${host}, but the base URL ${baseUrl} names this machine only: links, and the explorer's calls to the API, ` +
    `would send a client on another machine to its own. Set --base-url (CCRI_BASE_URL) to the address clients use, e.g. ${url.protocol}//<this machine's name>:${url.port || (url.protocol === 'https:' ? '443' : '80')}${url.pathname}`
  );
}

/** A port no one is listening on just now, found by listening on port 0 for a moment. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
