import { describe, expect, it } from 'vitest';
import { tempSqliteFiles } from '../../../test/helpers/temp.js';
import { nhsNumbersSql } from '../sql/audit-store.js';
import { migrate } from '../sql/migrate.js';
import { SqliteDriver } from './driver.js';

/**
 * The NHS numbers of the patients an audit event names are read for nearly every event of a
 * write. On a store without planner statistics yet (a new one, grown by requests), SQLite chose
 * the token index by parameter for that lookup and read every Patient identifier's row each time.
 */
describe("the audit trail's NHS-number lookup on SQLite", () => {
  const tempFile = tempSqliteFiles('ccri-audit-plan-');

  it("reads each patient's own index rows, by rid, on a store without statistics", async () => {
    const driver = new SqliteDriver(tempFile());
    try {
      await migrate(driver);
      const plan = (await driver.explain(nhsNumbersSql(2), ['a', 'b', 'https://fhir.nhs.uk/Id/nhs-number'])).join('\n');
      expect(plan).toMatch(/SEARCH t USING INDEX idx_token_rid \(rid=\?/);
      expect(plan).not.toMatch(/idx_token_code_rid/);
    } finally {
      await driver.close();
    }
  });
});
