import { describe, expect, it } from 'vitest';
import { EventIndex } from '../../src/stores/memory/event-index.js';
import { BinaryHeap } from '../../src/heap.js';
import { MemoryStore, memoryStore } from '../../src/stores/memory/memory-store.js';
import { fixtureDate as at, makeRun, makeTrigger, makeTriggerWrite } from '../../src/testing/fixtures.js';
import { storeContract } from '../../src/testing/store-contract.js';

storeContract('memory', async () => ({ store: memoryStore() }));

describe('MemoryStore', () => {
  it('is a memory store whose lock store is shared by everyone using it', () => {
    const store = memoryStore();
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.kind).toBe('memory');
    expect(store.subscribe).toBeUndefined();
    expect(store.createLockStore?.()).toBe(store.createLockStore?.());
    expect(store.createLockStore?.()).not.toBe(memoryStore().createLockStore?.());
  });
});

describe('MemoryStore at scale', () => {
  const COUNT = 200_000;

  it('finds the few due triggers among 200,000', async () => {
    const store = memoryStore();
    const due: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const isDue = i % 40_000 === 7;
      const status = i % 3 === 0 && !isDue ? 'paused' : 'active';
      const trigger = makeTrigger({ nextFireAt: isDue ? at(i) : at(1_000_000 + i), status });
      if (isDue) due.push(trigger.id);
      await store.insertTrigger(trigger);
    }
    expect((await store.findDueTriggers(at(999_999), 100)).map((t) => t.id)).toEqual(due);
    expect((await store.findDueTriggers(at(999_999), 2)).map((t) => t.id)).toEqual(due.slice(0, 2));
    const next = await store.findDueTriggers(at(1_000_002), 10);
    const expected = [...due.map((_, i) => 7 + i * 40_000), 1_000_001, 1_000_002].map((ms) => at(ms).getTime());
    expect(next.map((t) => t.nextFireAt?.getTime())).toEqual(expected);
  });

  it('pages through the triggers of one event among 200,000, following pauses', async () => {
    const store = memoryStore();
    const hot: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const kind = i % 4;
      const event = i % 100 === 1 ? 'hot' : `evt-${i % 5_000}`;
      const schedule = kind === 0 ? undefined : ({ kind: 'event', event } as const);
      const status = i % 7 === 0 ? 'paused' : 'active';
      // Created newest first, so the index must sort rather than rely on insertion order.
      const trigger = makeTrigger({ createdAt: at(COUNT - i), status, ...(schedule && { schedule, nextFireAt: null }) });
      if (schedule && event === 'hot' && status === 'active') hot.unshift(trigger.id);
      await store.insertTrigger(trigger);
    }
    const paged: string[] = [];
    for (let offset = 0; ; offset += 100) {
      const page = await store.findEventTriggers('hot', 100, offset);
      paged.push(...page.map((t) => t.id));
      if (page.length < 100) break;
    }
    expect(paged).toEqual(hot);
    const [first] = await store.findEventTriggers('hot', 1, 0);
    await store.updateTrigger(makeTriggerWrite(first as NonNullable<typeof first>, { status: 'paused' }));
    expect((await store.findEventTriggers('hot', 2, 0)).map((t) => t.id)).toEqual(hot.slice(1, 3));
    expect(await store.findEventTriggers('cold', 10, 0)).toEqual([]);
  });

  it('claims the few available runs among 200,000 pending, in order', async () => {
    const store = memoryStore();
    const available: { id: string; priority: number; availableAt: number }[] = [];
    const batch = [];
    for (let i = 0; i < COUNT; i++) {
      const isAvailable = i % 20_000 === 3;
      const availableAt = isAvailable ? at(i) : at(10_000_000 + i);
      const run = makeRun({ priority: i % 7, availableAt, taskType: i % 2 ? 'task-a' : 'task-b' });
      if (isAvailable) available.push({ id: run.id, priority: run.priority, availableAt: availableAt.getTime() });
      batch.push(run);
      if (batch.length === 10_000) await store.insertRuns(batch.splice(0));
    }
    available.sort((a, b) => b.priority - a.priority || a.availableAt - b.availableAt);
    const request = { now: at(1_000_000), instanceId: 'instance-1', leaseMs: 30_000 };
    const first = await store.claimRuns({ ...request, token: 'token-1', limit: 4 });
    expect(first.map((r) => r.id)).toEqual(available.slice(0, 4).map((r) => r.id));
    const rest = await store.claimRuns({ ...request, token: 'token-2', limit: 100 });
    expect(rest.map((r) => r.id)).toEqual(available.slice(4).map((r) => r.id));
    expect(await store.claimRuns({ ...request, token: 'token-3', limit: 100 })).toEqual([]);
    const takeOver = (now: Date) => store.claimExpiredLeases({ now, instanceId: 'instance-2', token: 'token-4', leaseMs: 30_000, limit: 100 });
    expect(await takeOver(at(1_029_999))).toEqual([]);
    expect(await takeOver(at(1_030_000))).toHaveLength(available.length);
  });
});

describe('EventIndex', () => {
  it('keeps each event in (createdAt, id) order and removes exactly what was added', () => {
    const index = new EventIndex();
    index.add('e', 2, 'b');
    index.add('e', 1, 'z');
    index.add('e', 2, 'a');
    index.add('f', 0, 'x');
    expect(index.page('e', 10, 0)).toEqual(['z', 'a', 'b']);
    expect(index.page('e', 1, 1)).toEqual(['a']);
    index.remove('e', 1, 'a');
    index.remove('e', 2, 'missing');
    expect(index.page('e', 10, 0)).toEqual(['z', 'a', 'b']);
    index.remove('e', 2, 'a');
    expect(index.page('e', 10, 0)).toEqual(['z', 'b']);
    index.remove('f', 0, 'x');
    expect(index.page('f', 10, 0)).toEqual([]);
    expect(index.page('e', -1, -1)).toEqual([]);
  });
});

describe('BinaryHeap', () => {
  it('pops in comparator order and supports remove and retain', () => {
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1_000);
    const heap = new BinaryHeap<number>((a, b) => a - b, values.slice(0, 100));
    for (const value of values.slice(100)) heap.push(value);
    expect(heap.size).toBe(500);
    expect(heap.remove(values[10] as number)).toBe(true);
    expect(heap.remove(-1)).toBe(false);
    expect(heap.retain((v) => v % 2 === 0)).toBe(values.filter((v, i) => i !== 10 && v % 2 === 1).length);
    const expected = values.filter((v, i) => i !== 10 && v % 2 === 0).sort((a, b) => a - b);
    expect(heap.peek()).toBe(expected[0]);
    const popped: number[] = [];
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) popped.push(v);
    expect(popped).toEqual(expected);
    expect(heap.size).toBe(0);
  });

  it('lists its first items in order without removing them, skipping the ones not accepted', () => {
    const values = Array.from({ length: 2_000 }, (_, i) => (i * 7919) % 1_000);
    const heap = new BinaryHeap<number>((a, b) => a - b, values);
    const sorted = [...values].sort((a, b) => a - b);
    const odd = (v: number) => v % 2 === 1;
    expect(heap.firstItems(50, (v) => v > 400, odd)).toEqual(sorted.filter(odd).slice(0, 50));
    expect(heap.firstItems(10_000, (v) => v > 400, odd)).toEqual(sorted.filter((v) => odd(v) && v <= 400));
    expect(heap.firstItems(0, () => false, () => true)).toEqual([]);
    expect(heap.size).toBe(2_000);
    expect(heap.pop()).toBe(sorted[0]);
  });
});
