import { describe, it } from 'vitest';
import { createTestSchema, shouldRunPostgres } from '../../../test/helpers/postgres.js';
import { openStore } from '../open.js';
import { runStoreContract } from '../store.contract.js';
import { defaultStoreOptions } from '../default-options.js';

if (await shouldRunPostgres()) {
  runStoreContract('PostgreSQL', async (clock) => {
    const schema = await createTestSchema();
    const store = await openStore({ ...defaultStoreOptions(clock), databaseUrl: schema.url });
    return { store, cleanup: schema.drop };
  });
} else {
  describe('store contract: PostgreSQL', () => {
    it('is skipped: PostgreSQL is unreachable (see the warning above)', () => undefined);
  });
}
