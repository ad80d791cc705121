import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// `vite --config web/vite.config.ts` serves the sources with the API proxied to a local
// `tagstream serve`; `vite build` writes the bundle that `tagstream serve` serves at `/`.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // Everything the page needs is imported by the sources; nothing is copied as is.
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    // Browsers this old do not run the dashboard anyway; the polyfill would be dead weight.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/v1': process.env.TAGSTREAM_URL ?? 'http://127.0.0.1:8080' },
  },
})
