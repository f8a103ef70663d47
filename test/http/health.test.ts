import { describe, expect, it } from 'vitest';
import { startTestServer, storeKinds } from '../helpers/server.js';

/** Issue 15: /health/live and /health/ready, ready only while the store answers. */
for (const kind of await storeKinds()) {
  describe(`health (${kind})`, () => {
    it('is live and ready while the store answers; not ready (503, Retry-After) once it does not', async () => {
      const s = await startTestServer(kind);
      try {
        const live = await s.request('GET', '/health/live');
        expect(live.status).toBe(200);
        expect(live.json).toEqual({ status: 'live' });
        const ready = await s.request('GET', '/health/ready');
        expect(ready.status).toBe(200);
        expect(ready.json).toEqual({ status: 'ready' });
        expect(ready.headers['cache-control']).toBe('no-store');
        // The store goes away under the server.
        await s.store.close();
        const gone = await s.request('GET', '/health/ready');
        expect(gone.status).toBe(503);
        expect(gone.headers['retry-after']).toBe('5');
        expect(gone.json.status).toBe('unavailable');
        expect((await s.request('GET', '/health/live')).status).toBe(200);
      } finally {
        await s.app.close();
        await s.cleanup().catch(() => undefined);
      }
    });
  });
}
