import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      'punctual/store': new URL('./src/store.ts', import.meta.url).pathname,
      'punctual/testing/contract': new URL('./src/testing/contract.ts', import.meta.url).pathname,
      'punctual/testing': new URL('./src/testing/index.ts', import.meta.url).pathname,
      'punctual/mongodb': new URL('./src/mongodb.ts', import.meta.url).pathname,
      'punctual/postgres': new URL('./src/stores/postgres/index.ts', import.meta.url).pathname,
      'punctual/dashboard': new URL('./src/dashboard/index.ts', import.meta.url).pathname,
      'punctual/redis': new URL('./src/locks/redis/index.ts', import.meta.url).pathname,
      punctual: new URL('./src/index.ts', import.meta.url).pathname,
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Finds a MongoDB server once per run (MONGODB_URI, MONGOMS_SYSTEM_BINARY, or a download) or says why the MongoDB suites skip.
    globalSetup: ['./test/mongo/global-setup.ts', './test/dashboard/global-setup.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
