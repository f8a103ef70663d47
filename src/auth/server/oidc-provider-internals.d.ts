/** oidc-provider's own AsyncLocalStorage, which holds each of its requests' context (its lib/helpers/als.js; the package has no types for it). */
declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';
  const als: AsyncLocalStorage<unknown>;
  export default als;
}
