/**
 * The browser assets, built into the package (`dist/dashboard/assets/`) from
 * `src/dashboard/client/`: no CDN, nothing downloaded at install or run time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigurationError } from '../errors.js';

export interface Asset {
  body: Buffer;
  type: string;
  /** Content hash, in the asset's URL so browsers may cache it for good. */
  hash: string;
}

/** Budget for all dashboard assets together, bytes (minified; the test suite checks it). */
export const ASSET_BUDGET_BYTES = 80 * 1024;
/** Budget for all dashboard assets together, gzip-compressed bytes. */
export const ASSET_BUDGET_GZIP_BYTES = 28 * 1024;

export const ASSET_FILES: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };

let loaded: Map<string, Asset> | null = null;

/** Reads the built assets once, next to this module. */
export function loadAssets(): Map<string, Asset> {
  if (loaded) return loaded;
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(ASSET_FILES)) {
    const url = new URL(`./assets/${name}`, import.meta.url);
    let body: Buffer;
    try {
      body = readFileSync(url);
    } catch (error) {
      throw new ConfigurationError(`The dashboard asset ${name} is missing at ${url.pathname}: build it with \`npm run build:dashboard\` (${(error as Error).message})`);
    }
    assets.set(name, { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) });
  }
  loaded = assets;
  return assets;
}
