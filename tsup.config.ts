import { defineConfig } from 'tsup';
// @ts-expect-error: a plain .mjs build script, without type declarations
import { buildDashboard } from './scripts/build-dashboard.mjs';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'store/index': 'src/store.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/contract': 'src/testing/contract.ts',
    'mongodb/index': 'src/mongodb.ts',
    'postgres/index': 'src/stores/postgres/index.ts',
    'redis/index': 'src/locks/redis/index.ts',
    'dashboard/index': 'src/dashboard/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  treeshake: true,
  // vitest is only needed by the contract suites (punctual/testing/contract), and only by their callers.
  external: ['vitest'],
  // The dashboard finds its assets next to itself through import.meta.url, in the CJS build too.
  shims: true,
  // The dashboard's browser bundle (preact, htm, the pages) goes into the package: nothing is
  // fetched at install or run time.
  onSuccess: async () => {
    await buildDashboard('dist/dashboard/assets');
  },
});
