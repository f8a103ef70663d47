import type { Command } from 'commander';
import { createServer } from '../server.js';
import { configFrom, storeOptions } from './options.js';

export function serveCommand(program: Command): void {
  storeOptions(
    program
      .command('serve')
      .description('serve the FHIR STU3 API (and load the demo data into an empty store)')
      .option('-p, --port <port>', 'port to listen on (env CCRI_PORT or PORT; default 8080)')
      .option('--host <host>', 'interface to listen on (env CCRI_HOST; default localhost; 0.0.0.0 for all)')
      .option('--base-url <url>', 'public base URL used in links (env CCRI_BASE_URL; default http://localhost:<port>/STU3)')
      .option('--no-demo-data', 'do not load the demo data into an empty store (env CCRI_DEMO_DATA=false)')
      .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (env CCRI_TLS_CERT; with --tls-key)')
      .option('--tls-key <file>', 'the PEM private key of --tls-cert (env CCRI_TLS_KEY)'),
  ).action(async (opts: Record<string, unknown>) => {
    const config = configFrom(opts);
    const server = await createServer(config);
    const shutdown = async () => {
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    const address = await server.app.listen({ port: config.port, host: config.host });
    const bases = [server.bases.open ? `${config.baseUrl} (open${config.openApi === 'read' ? ', read-only' : ''})` : undefined, server.bases.secure ? `${config.secureBaseUrl} (secure)` : undefined].filter(Boolean);
    console.log(`FHIR STU3 API at ${bases.join(' and ')} (${config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`}), listening on ${address}`);
    if (server.auth && server.demoUsers.length) {
      // Shown once, here, never logged: only this start knows them (the store keeps scrypt hashes).
      console.log(`Demo users for signing in at ${server.auth.issuer.issuer} (for a local copy only; they are not shown again):`);
      for (const u of server.demoUsers) console.log(`  ${u.username} / ${u.password}  ${u.is}`);
    }
  });
}
