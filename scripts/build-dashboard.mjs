// Bundles the dashboard's browser code (preact + htm + the pages) and its CSS, minified, into
// `<out>/app.js` and `<out>/app.css`. Default out: src/dashboard/assets (for tests and the
// example); tsup calls it with dist/dashboard/assets.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const client = resolve(root, 'src/dashboard/client');

export async function buildDashboard(out = resolve(root, 'src/dashboard/assets')) {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [resolve(client, 'main.ts')],
    outfile: resolve(out, 'app.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome109', 'firefox115', 'safari16'],
    legalComments: 'none',
    // The bundled libraries' licences, kept with their code.
    banner: { js: '/*! punctual dashboard. Bundles preact (MIT, Jason Miller) and htm (Apache-2.0, Google LLC). */' },
    logLevel: 'warning',
  });
  await build({ entryPoints: [resolve(client, 'style.css')], outfile: resolve(out, 'app.css'), bundle: true, minify: true, logLevel: 'warning' });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildDashboard(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`dashboard assets built in ${out}`);
}

