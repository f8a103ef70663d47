import { describe, expect, it } from 'vitest';
import { storeLabel } from '../../src/cli/options.js';
import { count } from '../../src/cli/text.js';
import { loadConfig } from '../../src/config.js';
import { withoutPassword } from '../../src/store/url.js';

describe('DATABASE_URL', () => {
  it('postgres:// and postgresql:// select PostgreSQL', () => {
    for (const url of ['postgres://u@h/db', 'postgresql://u@h/db', 'PostgreSQL://u@h/db']) expect(loadConfig({}, { DATABASE_URL: url }).databaseUrl).toBe(url);
    expect(loadConfig({ databaseUrl: 'postgresql://x@y/z' }, {}).databaseUrl).toBe('postgresql://x@y/z');
  });

  it('anything else is refused with a message that names both schemes, and hides the password', () => {
    for (const url of ['mysql://me:pw1@h/db', 'postgress://me:pw1@h/db', 'sqlite:data/x.sqlite', 'h:5432/db']) {
      expect(() => loadConfig({}, { DATABASE_URL: url }), url).toThrow(/must start with postgres:\/\/ or postgresql:\/\//);
      expect(() => loadConfig({}, { DATABASE_URL: url })).not.toThrow(/pw1/);
    }
  });

  it('an empty DATABASE_URL means SQLite, as an unset one does', () => {
    expect(loadConfig({}, { DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('withoutPassword hides only the password', () => {
    expect(withoutPassword('postgres://me:p%40ss@h:5432/db?x=1')).toBe('postgres://me:***@h:5432/db?x=1');
    expect(withoutPassword('postgres://me@h/db')).toBe('postgres://me@h/db');
    expect(withoutPassword('postgres://h:5432/db')).toBe('postgres://h:5432/db');
  });
});

describe('the store as the banner names it', () => {
  it('SQLite: the file', () => {
    expect(storeLabel(loadConfig({ dataDir: '/srv/ccri' }, {}))).toBe('SQLite file /srv/ccri/ccri.sqlite');
  });

  it('PostgreSQL: host and database, never the password', () => {
    expect(storeLabel(loadConfig({}, { DATABASE_URL: 'postgresql://me:secret@db.example:6543/ccri?sslmode=require' }))).toBe('PostgreSQL database ccri on db.example:6543');
    expect(storeLabel(loadConfig({}, { DATABASE_URL: 'postgres://me@localhost/ccri' }))).toBe('PostgreSQL database ccri on localhost');
    expect(storeLabel(loadConfig({}, { DATABASE_URL: 'postgres:///ccri?host=/var/run/postgresql' }))).toBe('PostgreSQL database ccri on /var/run/postgresql');
  });
});

describe('ports', () => {
  it('from 0 (any free port) to 65535, from the environment or the flag', () => {
    expect(loadConfig({}, { CCRI_PORT: '0' }).port).toBe(0);
    expect(loadConfig({}, { PORT: '65535' }).port).toBe(65535);
    expect(() => loadConfig({}, { PORT: '65536' })).toThrow("PORT must be a whole number from 0 to 65535 (0 for any free port), not '65536'");
    expect(() => loadConfig({ port: 1.5 }, {})).toThrow(/port must be a whole number/);
  });
});

describe('counts in messages', () => {
  it('say one in the singular', () => {
    expect([count(0, 'resource'), count(1, 'resource'), count(2, 'file'), count(1, 'entry', 'entries'), count(3, 'entry', 'entries')]).toEqual(['0 resources', '1 resource', '2 files', '1 entry', '3 entries']);
  });
});
