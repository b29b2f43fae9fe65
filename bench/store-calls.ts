/**
 * Where the throughput scenario's time goes, from the store's side: runs scenario 1 once, as the
 * benchmark does with punctual's tuned settings (`systems/punctual.ts`), with every store call
 * timed, and prints per method the calls, mean time and the share of the run during which at
 * least one call of it was in flight, the worker's CPU time per job and (on Linux) how busy the
 * machine's cores were. Run it on an otherwise idle machine, after `npm run bench` has built
 * punctual once:
 *
 *   npx tsx --tsconfig bench/tsconfig.json bench/store-calls.ts [postgres|memory] [jobs=20000] [concurrency=50]
 */
import { existsSync, readFileSync } from 'node:fs';
import { StoreTiming } from './lib/store-timing.js';
import { Countdown } from './lib/probes.js';
import { nowMs } from './lib/stats.js';
import { backend, enqueueManualRuns, scheduler } from './systems/punctual.js';

const [kind = 'postgres', jobsArg = '20000', concurrencyArg = '50'] = process.argv.slice(2);
if (kind !== 'postgres' && kind !== 'memory') throw new Error(`store: postgres or memory, not ${kind}`);
const JOBS = Number(jobsArg);
const CONCURRENCY = Number(concurrencyArg);

/** Busy and idle jiffies of all cores, from /proc/stat (null where there is none). */
function cpuTicks(): { busy: number; idle: number } | null {
  if (!existsSync('/proc/stat')) return null;
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0] = fields;
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait };
}

const data = await backend(kind, 'tuned');
await enqueueManualRuns(data.store(), 'tuned', JOBS);
const timing = new StoreTiming();
const count = new Countdown(JOBS);
const worker = scheduler(timing.wrap(data.store()), 'tuned', { noop: async () => void count.hit() }, { maxConcurrentRuns: CONCURRENCY });
const ticksBefore = cpuTicks();
const cpuBefore = process.cpuUsage();
const t0 = nowMs();
await worker.start();
await count.wait(60_000);
const elapsedMs = count.lastAt - t0;
const cpu = process.cpuUsage(cpuBefore);
const ticksAfter = cpuTicks();
await worker.stop({ graceMs: 1_000 });
await data.close();

console.log(`${kind} store, ${count.count} of ${JOBS} no-op jobs, concurrency ${CONCURRENCY}, tuned settings`);
console.log(`jobs/s ${Math.round((count.count / elapsedMs) * 1000)}; ${elapsedMs.toFixed(0)} ms to the last handler start`);
console.log(`worker CPU ${((cpu.user + cpu.system) / count.count).toFixed(1)} µs per job`);
if (ticksBefore && ticksAfter) {
  const busy = ticksAfter.busy - ticksBefore.busy;
  const all = busy + ticksAfter.idle - ticksBefore.idle;
  console.log(`machine: ${((100 * busy) / Math.max(1, all)).toFixed(0)} % of all cores busy (worker, database and anything else)`);
}
for (const { method, calls, meanMs, busyMs } of timing.methods()) {
  console.log(`${method}: ${calls} calls, mean ${meanMs.toFixed(1)} ms, in flight ${((100 * busyMs) / elapsedMs).toFixed(0)} % of the run`);
}
