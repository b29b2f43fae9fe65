// Builds the dashboard's browser assets into src/dashboard/assets once per test run, as the
// package build does into dist.
// @ts-expect-error: a plain .mjs build script, without type declarations
import { buildDashboard } from '../../scripts/build-dashboard.mjs';

export default async function setup(): Promise<void> {
  await buildDashboard();
}
