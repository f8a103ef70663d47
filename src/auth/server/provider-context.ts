import providerContext from 'oidc-provider/lib/helpers/als.js';

/**
 * oidc-provider keeps each of its requests' context in an AsyncLocalStorage. On Node 20 the
 * first use of one turns on promise hooks for the whole process, and nothing turns them off:
 * from then on every promise of every request, on every base, pays for them (a read by id
 * cost about a fifth more instructions once /auth had been asked once: docs/benchmarks.md).
 * The storage is disabled again whenever no request to oidc-provider is under way; its next
 * request enables it again (AsyncLocalStorage.run does). Disabling exits every context of the
 * storage, so it happens only when no request of oidc-provider's is left to need one.
 */
let underWay = 0;

/** Runs one request of oidc-provider's (`handle`, until its response is written). */
export async function providerRequest(handle: () => Promise<void>): Promise<void> {
  underWay++;
  try {
    await handle();
  } finally {
    underWay--;
    if (underWay === 0) providerContext.disable();
  }
}

/** Whether oidc-provider's storage is enabled (for tests: it should not stay so between its requests). */
export function providerContextEnabled(): boolean {
  return (providerContext as unknown as { enabled?: boolean }).enabled === true;
}
