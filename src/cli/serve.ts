import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { createServer } from '../server.js';
import { holdDefinitions } from '../profiles/conformance.js';
import { configFrom, storeLabel, storeOptions, wholeNumber } from './options.js';
import { readDefinitions } from './validate.js';

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
      .option('--definitions <path>', 'also hold the CodeSystems and ValueSets in this file or folder, for validation, search and the terminology operations (repeatable; env CCRI_DEFINITIONS, comma-separated)', (v: string, acc: string[] | undefined) => [...(acc ?? []), v]),
  ).action(async (opts: Record<string, unknown>) => {
    let config = configFrom(opts);
    // Port 0: a free port is chosen now, so that the base URL in links can name it.
    if (config.port === 0) config = configFrom({ ...opts, port: await freePort(config.host) });
    if (config.definitions.length) holdDefinitions(await readDefinitions(config.definitions));
    const server = await createServer(config);
    // A graceful stop: no new connections, in-flight requests finish (new ones on open connections get 503), then the
    // audit trail and the store are closed. Requests still running after the grace period are cut, and the exit says so.
    let stopping = false;
    const shutdown = async (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      const limit = setTimeout(() => {
        console.error(`ccri: requests still running ${config.shutdownGraceMs} ms after ${signal} (CCRI_SHUTDOWN_GRACE_MS) were cut off.`);
        process.exit(1);
      }, config.shutdownGraceMs);
      limit.unref();
      await server.close();
      clearTimeout(limit);
      console.log(`ccri stopped (${signal}).`);
      process.exit(0);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
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
    const bases = [server.bases.open ? `${config.baseUrl} (open${config.openApi === 'read' ? ', read-only' : ''})` : undefined, server.bases.secure ? `${config.secureBaseUrl} (secure)` : undefined].filter(Boolean);
    console.log(`FHIR STU3 API at ${bases.join(' and ')}, listening on ${address} (process ${process.pid})`);
    console.log(`Store: ${storeLabel(config)}`);
    if (config.terminology) console.log(`Terminology server: ${config.terminology.url} (for ${config.terminology.systems === '*' ? 'every code system this server does not hold' : config.terminology.systems.join(', ')})`);
    console.log(`Web explorer at ${new URL('/', config.baseUrl).href}`);
    if (server.auth && server.demoUsers.length) {
      // Shown once, here, never logged: only this start knows them (the store keeps scrypt hashes).
      console.log(`Demo users for signing in at ${server.auth.issuer.issuer} (for a local copy only; they are not shown again):`);
      for (const u of server.demoUsers) console.log(`  ${u.username} / ${u.password}  ${u.is}`);
    }
  });
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
