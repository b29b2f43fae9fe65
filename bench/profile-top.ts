/**
 * Prints where a V8 CPU profile (from `npm run bench -- --profile`, or `node --cpu-prof`) spent
 * its time: the functions with the most self time, and the share of garbage collection and idle.
 *
 *   npx tsx bench/profile-top.ts FILE.cpuprofile [top=25] [fromSec] [toSec]
 *
 * Also prints the busy share of each second, to find a scenario's phases (seeding, then the
 * measured part); `fromSec` and `toSec` (from the profile's start) restrict the table to one.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, fromArg, toArg] = process.argv.slice(2);
if (!file) {
  console.log('usage: npx tsx bench/profile-top.ts FILE.cpuprofile [top]');
  process.exit(1);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<string, number>();
let totalUs = 0;
let clockUs = 0;
const fromUs = fromArg === undefined ? 0 : Number(fromArg) * 1e6;
const toUs = toArg === undefined ? Number.POSITIVE_INFINITY : Number(toArg) * 1e6;
/** Busy µs per second of the profile. */
const busyBySecond: number[] = [];
profile.samples.forEach((id, i) => {
  const frame = byNode.get(id)?.callFrame;
  const us = profile.timeDeltas[i] ?? 0;
  clockUs += us;
  const second = Math.floor(clockUs / 1e6);
  if (frame && frame.functionName !== '(idle)') busyBySecond[second] = (busyBySecond[second] ?? 0) + us;
  if (clockUs < fromUs || clockUs > toUs) return;
  totalUs += us;
  if (!frame) return;
  const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${frame.lineNumber + 1}` : '';
  const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
  selfUs.set(key, (selfUs.get(key) ?? 0) + us);
});
console.log(`busy per second: ${Array.from(busyBySecond, (us, s) => `${s}:${Math.round((us ?? 0) / 1e4)}%`).join(' ')}`);
const pct = (us: number): string => `${((100 * us) / totalUs).toFixed(1)} %`.padStart(7);
console.log(`${file}: ${(totalUs / 1000).toFixed(0)} ms sampled`);
const busy = totalUs - (selfUs.get('(idle)') ?? 0);
console.log(`busy ${(busy / 1000).toFixed(0)} ms; garbage collection ${pct(selfUs.get('(garbage collector)') ?? 0)} of all, ${((100 * (selfUs.get('(garbage collector)') ?? 0)) / busy).toFixed(1)} % of busy`);
const top = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25));
for (const [name, us] of top) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
