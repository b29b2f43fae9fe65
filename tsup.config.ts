import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/contract': 'src/testing/contract.ts',
    'mongodb/index': 'src/mongodb.ts',
    'postgres/index': 'src/stores/postgres/index.ts',
    'redis/index': 'src/locks/redis/index.ts',
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
});
