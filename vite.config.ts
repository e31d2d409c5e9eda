/**
 * The page's build: plain TypeScript and CSS bundled by Vite into `dist/page`, which the bot serves as static files
 * (no CDN at run time). `npm run build` runs it; the browser test builds into a temporary directory of its own.
 */
import path from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: path.join(import.meta.dirname, 'src/web/page'),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: path.join(import.meta.dirname, 'dist/page'),
    emptyOutDir: true,
    target: 'es2022',
  },
});
