/**
 * Scenario 5, known library bugs: the minimal reproductions under repro/, run as checks, so the
 * suite keeps failing until each is fixed and keeps guarding the fix afterwards. A lost run, a
 * run executed twice at once by a live holder, or a store that stops working is a violation; a
 * takeover that at-least-once allows is a note.
 * (The lost trigger lock of repro/redis-lock-lost.ts is checked end to end by redis-restart.)
 * Each reproduction uses its own schema or an in-memory store; none needs the four processes.
 */
import type { ScenarioResult } from '../harness.js';
import { longSchemaStatementNames } from '../repro/long-schema-statement-names.js';
import { queueSkipsTakenOverRun } from '../repro/queue-skips-taken-over-run.js';
import { slowLockRenewal } from '../repro/slow-lock-renewal.js';
import type { Settings } from '../settings.js';

export async function regressions(_settings: Settings): Promise<ScenarioResult> {
  const started = Date.now();
  const result: ScenarioResult = { name: 'regressions', figures: {}, details: [], violations: [], notes: [], durationMs: 0 };
  try {
    const schema = await longSchemaStatementNames();
    result.details.push(['55-character schema (repro/long-schema-statement-names.ts)', schema ? 'store fails' : 'works']);
    if (schema) result.violations.push(`the PostgreSQL store stops working with a schema name it accepts: ${schema}`);

    const skipped = await queueSkipsTakenOverRun();
    result.details.push(['taken-over run, overlap queue (repro/queue-skips-taken-over-run.ts)', skipped ? 'skipped' : 'runs']);
    if (skipped) result.violations.push(`run lost: ${skipped}`);

    console.log('  [regressions] a lock store slow for 2.5 s under a running run (about 12 s)');
    const slow = await slowLockRenewal();
    const outcome = slow.lost ? 'run lost' : slow.duplicated ? 'attempts ran at once' : slow.leaseLost ? 'run taken over' : 'run kept its lease';
    result.details.push(['lock store slow for 2.5 s (repro/slow-lock-renewal.ts)', outcome]);
    if (slow.lost) result.violations.push(`run lost: ${slow.lost}`);
    if (slow.duplicated) result.violations.push(`one instance ran a run several times at once: ${slow.duplicated}`);
    if (!slow.lost && !slow.duplicated && slow.leaseLost) result.notes.push(slow.leaseLost);
    result.figures.lost = (skipped ? 1 : 0) + (slow.lost ? 1 : 0);
    result.figures.duplicates = slow.duplicated ? 1 : 0;
  } catch (error) {
    result.violations.push(`scenario aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  result.durationMs = Date.now() - started;
  return result;
}
