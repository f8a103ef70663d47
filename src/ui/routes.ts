/**
 * The explorer's pages, one list for both sides: the server answers each with
 * the app (so a reload or a shared link works), and the browser's router draws
 * it. Anything else is "page not found" on both.
 */
export const PAGE_PATHS = ['/', '/patients', '/patients/:id', '/browse', '/browse/:type', '/resources/:type/:id', '/validate', '/profiles', '/profiles/:id', '/api', '/sign-in', '/sign-in/callback', '/audit'] as const;

export type PagePath = (typeof PAGE_PATHS)[number];
