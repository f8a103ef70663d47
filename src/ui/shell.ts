import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignInConfig } from './sign-in.js';

/** What the front end is told at run time (it reads it from the page, not from the build). */
export interface ExplorerConfig {
  openBase: string;
  secureBase?: string;
  /** How the explorer signs users in (issue 12, point 9), or why it cannot. */
  signIn?: SignInConfig;
}

const CONFIG_MARK = /<script type="application\/json" id="ccri-config">[^<]*<\/script>/;

/**
 * The page every route answers with: the built index.html, with the run-time
 * configuration written into its JSON island. Without a build, a page that says how to make one.
 */
export function loadShell(dir: string, config: ExplorerConfig): string {
  const file = join(dir, 'index.html');
  if (!existsSync(file)) return errorPage(503, 'The web explorer has not been built. Run `npm run build` (npm install does it) and start the server again.');
  const html = readFileSync(file, 'utf8');
  if (!CONFIG_MARK.test(html)) throw new Error(`${file} has no ccri-config island; rebuild the explorer`);
  // JSON inside a script element: escape '<' so no value can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return html.replace(CONFIG_MARK, () => `<script type="application/json" id="ccri-config">${json}</script>`);
}

/**
 * Only this server may be reached: scripts, styles, images and fonts from itself,
 * and fetches to itself and the FHIR bases. Inline styles stay allowed because the
 * chart and API-docs libraries position elements with style attributes.
 */
export function contentSecurityPolicy(config: ExplorerConfig): string {
  const origins = new Set<string>();
  for (const base of [config.openBase, config.secureBase]) {
    if (!base) continue;
    try {
      origins.add(new URL(base).origin);
    } catch {
      // A relative base is same-origin already.
    }
  }
  return [
    "default-src 'self'",
    `connect-src 'self' ${[...origins].join(' ')}`.trim(),
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/** A plain page for errors raised before the app can draw anything. */
export function errorPage(status: number, message: string): string {
  const text = message.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Error ${status} - Care Connect explorer</title></head><body style="font-family: arial, sans-serif; margin: 2rem; color: #212b32"><h1>Error ${status}</h1><p>${text}</p><p><a href="/">Back to the explorer</a></p></body></html>`;
}
