import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
/**
 * Where the benchmark's build of punctual goes: the root node_modules/.cache (ignored by git and
 * eslint), so its dependencies resolve from the root node_modules, as for an installed package.
 */
export const BUILD_DIR = join(root, 'node_modules', '.cache', 'punctual-bench');

/**
 * Builds punctual from `<sourceRoot>/src` (default: this checkout) the way it is published (tsup, ESM, node20, no name-keeping
 * helpers), so it is measured as compiled JavaScript, like the peers from node_modules, and
 * not through tsx's on-the-fly transform (which wraps every closure in a naming helper).
 */
export async function buildPunctual(sourceRoot = root, outDir = BUILD_DIR): Promise<void> {
  const { build } = await import('tsup');
  await build({
    config: false,
    entry: { index: join(sourceRoot, 'src/index.ts'), 'postgres/index': join(sourceRoot, 'src/stores/postgres/index.ts') },
    format: ['esm'],
    outDir,
    target: 'node20',
    splitting: false,
    treeshake: true,
    clean: true,
    silent: true,
    external: ['pg', 'mongodb', 'ioredis', 'vitest'],
  });
}
