/**
 * vitest globalSetup: resolves the MongoDB server once per run (see harness.ts) and hands its
 * URI to the test files through `inject('mongoUri')`; null means the MongoDB suites skip.
 */
import type { TestProject } from 'vitest/node';
import { resolveMongo } from './harness.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The MongoDB test server, or null when there is none (the MongoDB suites skip). */
    mongoUri: string | null;
    /** Whether that server supports change streams (replica set or mongos). */
    mongoChangeStreams: boolean;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await resolveMongo();
  project.provide('mongoUri', server?.uri ?? null);
  project.provide('mongoChangeStreams', server?.changeStreams ?? false);
  return async () => {
    await server?.stop();
  };
}
