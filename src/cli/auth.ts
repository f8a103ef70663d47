import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { addClient, listClients, removeClient } from '../auth/server/clients.js';
import { rotateKeys, signingKeys } from '../auth/server/keys.js';
import { LONGEST_SIGNED_MS } from '../auth/server/ttl.js';
import { addUser } from '../auth/server/users.js';
import type { StoreAdmin } from '../store/store.js';
import { createContext } from './context.js';
import { configFrom, storeOptions } from './options.js';

/**
 * The embedded authorization server's administration (docs/security.md): apps
 * (`ccri client`), users (`ccri user`) and signing keys (`ccri keys`). Each works on the
 * store directly, so a running server (every node) sees the change at once.
 */
async function withStore(opts: Record<string, unknown>, fn: (store: StoreAdmin) => Promise<void>): Promise<void> {
  const { store } = await createContext(configFrom(opts));
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function clientCommand(program: Command): void {
  const client = program.command('client').description("register the apps that may use the authorization server at /auth");
  storeOptions(
    client
      .command('add')
      .description('register an app; prints it as JSON with its client_id (and client_secret, shown only here)')
      .requiredOption('--name <name>', 'the name users see on the consent page')
      .requiredOption('--grant <grant>', 'authorization_code (an app users sign in to) or client_credentials (a backend service)')
      .requiredOption('--scope <scopes>', 'the scopes it may ask for, space-separated (e.g. "launch/patient openid fhirUser offline_access patient/*.read")')
      .option('--redirect-uri <url>', 'a redirect URI (repeat for several)', collect)
      .option('--launch-uri <url>', 'where the EHR launch page (/auth/launch) opens the app')
      .option('--public', 'a public app (in a browser or on a phone): no secret, PKCE alone')
      .option('--jwks-file <file>', "a file holding the app's public keys (JWKS), for private_key_jwt")
      .option('--jwks-url <url>', "where the app publishes its public keys (JWKS), for private_key_jwt"),
  ).action(async (opts: Record<string, unknown>) => {
    const grant = String(opts.grant);
    if (grant !== 'authorization_code' && grant !== 'client_credentials') throw new Error('--grant must be authorization_code or client_credentials');
    const jwks = typeof opts.jwksFile === 'string' ? (JSON.parse(readFileSync(opts.jwksFile, 'utf8')) as JSONWebKeySet) : undefined;
    if (jwks && !Array.isArray(jwks.keys)) throw new Error(`${String(opts.jwksFile)} does not hold a JWKS (an object with "keys")`);
    await withStore(opts, async (store) => {
      const added = await addClient(store.auth(), {
        name: String(opts.name),
        grant,
        scope: String(opts.scope),
        ...(Array.isArray(opts.redirectUri) ? { redirectUris: opts.redirectUri as string[] } : {}),
        ...(typeof opts.launchUri === 'string' ? { launchUri: opts.launchUri } : {}),
        ...(opts.public === true ? { public: true } : {}),
        ...(jwks ? { jwks } : {}),
        ...(typeof opts.jwksUrl === 'string' ? { jwksUri: opts.jwksUrl } : {}),
      });
      console.log(JSON.stringify(added, null, 2));
    });
  });
  storeOptions(client.command('list').description('list the registered apps as JSON (never their secrets)')).action(async (opts: Record<string, unknown>) => {
    await withStore(opts, async (store) => console.log(JSON.stringify(await listClients(store.auth()), null, 2)));
  });
  storeOptions(client.command('remove').description('remove a registered app').argument('<client_id>')).action(async (clientId: string, opts: Record<string, unknown>) => {
    await withStore(opts, async (store) => {
      if (!(await removeClient(store.auth(), clientId))) throw new Error(`No client ${clientId}`);
      console.log(`Removed client ${clientId}.`);
    });
  });
}

export function userCommand(program: Command): void {
  const user = program.command('user').description('the users who sign in at the authorization server');
  storeOptions(
    user
      .command('add')
      .description('add a user (or set its password and resource); the password is kept as a scrypt hash')
      .requiredOption('--username <name>', 'the user name')
      .requiredOption('--password <password>', 'the password (8 characters at least)')
      .option('--patient <id>', 'the Patient this user is (a patient: patient/ scopes on that record)')
      .option('--practitioner <id>', 'the Practitioner this user is (a clinician)'),
  ).action(async (opts: Record<string, unknown>) => {
    await withStore(opts, async (store) => {
      const added = await addUser(store.auth(), {
        username: String(opts.username),
        password: String(opts.password),
        ...(typeof opts.patient === 'string' ? { patient: opts.patient } : {}),
        ...(typeof opts.practitioner === 'string' ? { practitioner: opts.practitioner } : {}),
      });
      console.log(`Added user ${added.username}${added.patient ? ` (Patient/${added.patient})` : added.practitioner ? ` (Practitioner/${added.practitioner})` : ''}.`);
    });
  });
  storeOptions(user.command('list').description('list the users as JSON (never their password hashes)')).action(async (opts: Record<string, unknown>) => {
    await withStore(opts, async (store) => {
      const users = (await store.auth().listUsers()).map(({ passwordHash: _, ...u }) => ({ ...u, created: new Date(u.created).toISOString() }));
      console.log(JSON.stringify(users, null, 2));
    });
  });
  storeOptions(user.command('remove').description('remove a user').argument('<username>')).action(async (username: string, opts: Record<string, unknown>) => {
    await withStore(opts, async (store) => {
      if (!(await store.auth().removeUser(username))) throw new Error(`No user ${username}`);
      console.log(`Removed user ${username}.`);
    });
  });
}

export function keysCommand(program: Command): void {
  const keys = program.command('keys').description("the authorization server's signing keys");
  storeOptions(keys.command('rotate').description('make a new signing key; the old ones stay published until the tokens they signed have expired')).action(async (opts: Record<string, unknown>) => {
    await withStore(opts, async (store) => {
      await signingKeys(store.auth());
      const { kid, retired } = await rotateKeys(store.auth(), LONGEST_SIGNED_MS);
      console.log(`New signing key ${kid}; retired ${retired.length ? retired.join(', ') : 'none'} (published for ${Math.round(LONGEST_SIGNED_MS / 60_000)} more minutes).`);
    });
  });
  storeOptions(keys.command('list').description('list the published keys (public parts) as a JWKS, the signing key first')).action(async (opts: Record<string, unknown>) => {
    await withStore(opts, async (store) => console.log(JSON.stringify((await signingKeys(store.auth())).public, null, 2)));
  });
}
