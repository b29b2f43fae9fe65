/**
 * The reliability suite: real PostgreSQL and Redis, four scheduler processes, kill -9 and server
 * restarts (of private servers the outage scenarios start on free ports, never the machine's). `npm run test:reliability` runs the full setting; `npm run test:reliability -- --short`
 * the one CI runs. `--only=sigkill,redis-restart` runs some scenarios. Prints each scenario's
 * figures and a summary table; exits 1 when any guarantee was violated. See docs/reliability.md.
 */
import { printScenario, printTable } from './report.js';
import type { ScenarioResult } from './harness.js';
import { rollingDeploy, workerSurvivesRestart } from './scenarios/deploys.js';
import { exactlyOnce } from './scenarios/exactly-once.js';
import { postgresRestart, redisRestart } from './scenarios/outages.js';
import { regressions } from './scenarios/regressions.js';
import { sigkill } from './scenarios/sigkill.js';
import { MONGO_SCENARIOS, mongoScenarios } from './mongo/mongo-scenarios.js';
import { DATABASE_URL, machinePostgresReady } from './services.js';
import { FULL, SHORT, type Settings } from './settings.js';

const SCENARIOS: Record<string, (settings: Settings) => Promise<ScenarioResult>> = {
  'exactly-once': exactlyOnce,
  sigkill,
  'postgres-restart': postgresRestart,
  'redis-restart': redisRestart,
  'rolling-deploy': rollingDeploy,
  'worker-survives-restart': workerSurvivesRestart,
  regressions,
};

function parseArgs(argv: string[]): { settings: Settings; names: string[] } {
  let settings = FULL;
  let names = [...Object.keys(SCENARIOS), ...MONGO_SCENARIOS];
  for (const arg of argv) {
    if (arg === '--short') settings = SHORT;
    else if (arg === '--full') settings = FULL;
    else if (arg.startsWith('--only=')) names = arg.slice('--only='.length).split(',');
    else throw new Error(`unknown argument ${arg}; use --short, --full, --only=${Object.keys(SCENARIOS).join(',')}`);
  }
  const unknown = names.filter((name) => !SCENARIOS[name] && !MONGO_SCENARIOS.includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; valid: ${[...Object.keys(SCENARIOS), ...MONGO_SCENARIOS].join(', ')}`);
  return { settings, names };
}

async function main(): Promise<number> {
  const { settings, names } = parseArgs(process.argv.slice(2));
  if (!(await machinePostgresReady())) {
    console.error(`The reliability suite needs PostgreSQL at ${DATABASE_URL} (DATABASE_URL); it does not start it.`);
    return 1;
  }
  const started = Date.now();
  console.log(`Reliability suite, ${settings.name} setting: ${names.join(', ')} (${settings.processes} processes, leaseMs ${settings.leaseMs}, pollIntervalMs ${settings.pollIntervalMs})`);
  const results: ScenarioResult[] = [];
  for (const name of names.filter((n) => SCENARIOS[n])) {
    console.log(`\n== ${name}`);
    const result = await (SCENARIOS[name] as (settings: Settings) => Promise<ScenarioResult>)(settings);
    printScenario(result);
    results.push(result);
  }
  // The MongoDB mode: run when MONGODB_URI names a replica set, skipped with a message otherwise.
  for (const result of await mongoScenarios(settings, names)) {
    printScenario(result);
    results.push(result);
  }
  printTable(results, settings.name);
  const failed = results.filter((r) => r.violations.length > 0);
  const skipped = results.filter((r) => r.skipped);
  if (skipped.length > 0) console.log(`\nSkipped: ${skipped.map((r) => `${r.name} (${r.skipped})`).join('; ')}`);
  console.log(`\n${failed.length === 0 ? 'All guarantees held' : `Guarantees violated in ${failed.map((r) => r.name).join(', ')}`} (${((Date.now() - started) / 1_000).toFixed(0)} s).`);
  return failed.length === 0 ? 0 : 1;
}

// Ctrl-C: children get the signal from the terminal too. process.exit runs the exit hooks that
// stop and delete the private servers (test/support/free-port.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: removing the private servers, then exiting`);
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
