/**
 * Live updates: one subscription to the scheduler's lifecycle events, fanned out to every open
 * server-sent-events stream. A scoped stream gets only its owner's events.
 */
import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../clock.js';
import type { SchedulerEventName } from '../events.js';
import type { Scheduler } from '../scheduler.js';
import type { RunRecord, TriggerRecord } from '../types.js';
import { SECURITY_HEADERS } from './http.js';
import { runSummary, triggerSummary } from './summaries.js';

/** Streams open at once per dashboard; more answer 503 (each holds a socket). */
export const MAX_STREAMS = 200;
const HEARTBEAT_MS = 25_000;

const RUN_EVENTS = ['run:scheduled', 'run:started', 'run:progress', 'run:completed', 'run:retrying', 'run:failed', 'run:timed-out', 'run:cancelled', 'run:skipped', 'run:recovered'] as const;
const TRIGGER_EVENTS = ['trigger:created', 'trigger:updated', 'trigger:deleted', 'trigger:paused', 'trigger:resumed', 'trigger:completed'] as const;

interface Stream {
  res: ServerResponse;
  owner: string | undefined;
}

export class LiveHub {
  private readonly streams = new Set<Stream>();
  private unsubscribe: (() => void)[] = [];
  private heartbeat: TimerHandle | null = null;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  /** Opens a stream on `res`; it ends when the client goes away. */
  open(res: ServerResponse, owner: string | undefined): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 3000\n\n');
    const stream: Stream = { res, owner };
    this.streams.add(stream);
    if (this.streams.size === 1) this.subscribe();
    res.on('close', () => {
      this.streams.delete(stream);
      if (this.streams.size === 0) this.unsubscribeAll();
    });
  }

  /** Ends every stream (the host is shutting down). */
  close(): void {
    for (const stream of this.streams) stream.res.end();
    this.streams.clear();
    this.unsubscribeAll();
  }

  private subscribe(): void {
    for (const name of RUN_EVENTS) {
      this.unsubscribe.push(this.scheduler.on(name, (event) => this.sendRun(name, event.run)));
    }
    for (const name of TRIGGER_EVENTS) {
      this.unsubscribe.push(this.scheduler.on(name, (event) => this.sendTrigger(name, event.trigger)));
    }
    this.beat();
  }

  private beat(): void {
    this.heartbeat = this.clock.setTimeout(() => {
      for (const stream of this.streams) stream.res.write(': keep-alive\n\n');
      this.beat();
    }, HEARTBEAT_MS);
  }

  private unsubscribeAll(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    if (this.heartbeat) this.clock.clearTimeout(this.heartbeat);
    this.heartbeat = null;
  }

  private sendRun(name: SchedulerEventName, run: RunRecord): void {
    this.broadcast(run.owner, 'run', { event: name, run: runSummary(run) });
  }

  private sendTrigger(name: SchedulerEventName, trigger: TriggerRecord): void {
    this.broadcast(trigger.owner, 'trigger', { event: name, trigger: triggerSummary(trigger) });
  }

  private broadcast(owner: string, type: string, data: unknown): void {
    const frame = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const stream of this.streams) {
      if (stream.owner === undefined || stream.owner === owner) stream.res.write(frame);
    }
  }
}
