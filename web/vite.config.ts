import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const outDir = join(here, '..', 'dist', 'web');

/**
 * The NHS design system's compiled CSS loads the Frutiger web font from the NHS's
 * own servers and names its icons by absolute URL. The font is not free to serve
 * from here and nothing may come from elsewhere, so its @font-face rules go (the
 * design system's fallback stack, Arial, takes over) and the icons are bundled.
 */
function nhsukCss(): Plugin {
  return {
    name: 'ccri-nhsuk-css',
    enforce: 'pre',
    transform(code, id) {
      if (!/nhsuk-frontend[^?]*\.css($|\?)/.test(id)) return null;
      const css = code.replace(/@font-face\s*\{[^}]*\}/g, '').replace(/url\(\/assets\/images\//g, 'url(./assets/images/');
      return withoutOldIeHacks(css);
    },
  };
}

/** Drops `@media screen\0 …` blocks: they only ever applied in Internet Explorer 8 to 10, and the CSS minifier rejects them. */
function withoutOldIeHacks(css: string): string {
  let out = '';
  let from = 0;
  for (let at = css.indexOf('@media screen\\0', from); at >= 0; at = css.indexOf('@media screen\\0', from)) {
    out += css.slice(from, at);
    let depth = 0;
    let i = css.indexOf('{', at);
    for (; i < css.length; i++) {
      if (css[i] === '{') depth++;
      else if (css[i] === '}' && --depth === 0) break;
    }
    from = i + 1;
  }
  return out + css.slice(from);
}

/** A .gz beside every text asset, served by @fastify/static's preCompressed option. */
function gzipTwins(): Plugin {
  return {
    name: 'ccri-gzip-twins',
    apply: 'build',
    writeBundle(_options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|svg|json)$/.test(name)) continue;
        const file = join(outDir, name);
        writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  plugins: [nhsukCss(), gzipTwins()],
  build: {
    outDir,
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    assetsInlineLimit: 2048,
  },
  logLevel: 'warn',
});
