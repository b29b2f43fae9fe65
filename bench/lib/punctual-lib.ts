import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILD_DIR } from './build.js';

import type * as PunctualModule from 'punctual';
import type * as PunctualPostgresModule from 'punctual/postgres';

type Punctual = typeof PunctualModule;
type PunctualPostgres = typeof PunctualPostgresModule;

/**
 * punctual as built by run.ts (compiled, as published; `BENCH_PUNCTUAL_BUILD` names another
 * build, for `--punctual-src`), typed from this checkout's sources. With
 * BENCH_PUNCTUAL_SOURCE=1, the sources themselves, through tsx.
 */
export async function loadPunctual(): Promise<Punctual & PunctualPostgres> {
  if (process.env.BENCH_PUNCTUAL_SOURCE === '1') {
    return { ...(await import('punctual')), ...(await import('punctual/postgres')) };
  }
  const dir = process.env.BENCH_PUNCTUAL_BUILD ?? BUILD_DIR;
  const main = (await import(pathToFileURL(join(dir, 'index.js')).href)) as Punctual;
  const postgres = (await import(pathToFileURL(join(dir, 'postgres', 'index.js')).href)) as PunctualPostgres;
  return { ...main, ...postgres };
}
