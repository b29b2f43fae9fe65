/**
 * One repetition of one scenario on one system, in a process of its own (started by run.ts):
 * reads the spec from argv, reports progress and the outcome over IPC, then exits.
 */
import { send } from './progress.js';
import type { Adapter, ChildSpec } from './types.js';
import { NotApplicable } from './types.js';

const loaders: Record<string, () => Promise<Adapter>> = {
  'punctual-memory': async () => (await import('../systems/punctual.js')).punctual('memory'),
  'punctual-postgres': async () => (await import('../systems/punctual.js')).punctual('postgres'),
  bullmq: async () => (await import('../systems/bullmq.js')).bullmq(),
  'graphile-worker': async () => (await import('../systems/graphile-worker.js')).graphileWorker(),
  'pg-boss': async () => (await import('../systems/pg-boss.js')).pgBoss(),
  'agenda-postgres': async () => (await import('../systems/agenda.js')).agenda('postgres'),
  'agenda-mongo': async () => (await import('../systems/agenda.js')).agenda('mongo'),
};

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ChildSpec;
  const load = loaders[spec.system];
  if (!load) throw new Error(`unknown system ${spec.system}`);
  const adapter = await load();
  try {
    const p = spec.params as never;
    const outcome =
      spec.scenario === 'scale' ? await adapter.scale(p, spec.setting, spec.rep) : await adapter[spec.scenario](p, spec.setting);
    await send({ type: 'result', outcome });
  } catch (error) {
    if (error instanceof NotApplicable) await send({ type: 'skip', reason: error.message });
    else throw error;
  }
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    await send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  },
);
