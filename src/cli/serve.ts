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
      .option('--no-demo-data', 'do not load the demo data into an empty store (env CCRI_DEMO_DATA=false)'),
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
    console.log(`FHIR STU3 API at ${config.baseUrl} (${config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`}), listening on ${address}`);
    if (server.demoUsers.length) {
      // Shown once, here, never logged: only this start knows them (the store keeps scrypt hashes).
      console.log(`Demo users for signing in at ${server.auth.issuer.issuer} (for a local copy only; they are not shown again):`);
      for (const u of server.demoUsers) console.log(`  ${u.username} / ${u.password}  ${u.is}`);
    }
  });
}
