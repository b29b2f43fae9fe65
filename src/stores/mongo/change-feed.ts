import type { ChangeStream, Collection, Db, Document, ResumeToken } from 'mongodb';
import type { StoreChange } from '../types.js';
import { COLLECTION_OPTIONS } from './indexes.js';

/** Every write to a trigger can move its next fire time: wake the dispatcher for all of them. */
export const TRIGGER_CHANGES_PIPELINE: readonly Document[] = [
  { $match: { operationType: { $in: ['insert', 'update', 'replace', 'delete'] } } },
  { $project: { operationType: 1, documentKey: 1 } },
];

/**
 * Only run writes that make a run claimable wake the executor: new runs, and runs put back to
 * `pending` (retry, deferral, lease recovery). Lease renewals, progress and finishes, by far the
 * most frequent run writes, would only cost every instance a useless claim query.
 */
export const RUN_CHANGES_PIPELINE: readonly Document[] = [
  {
    $match: {
      $or: [
        { operationType: { $in: ['insert', 'replace'] } },
        { operationType: 'update', 'updateDescription.updatedFields.status': 'pending' },
      ],
    },
  },
  { $project: { operationType: 1, documentKey: 1 } },
];

/**
 * Whether the server behind a `hello` (or `isMaster`) reply supports change streams: a
 * replica-set member has `setName`, a mongos answers `msg: 'isdbgrid'`; a standalone has neither.
 */
export function supportsChangeStreams(hello: Document): boolean {
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}

/** The `hello` reply of the server behind `db` (`isMaster` on servers before 4.4.2, which answer CommandNotFound). */
export async function helloReply(db: Db): Promise<Document> {
  try {
    return await db.command({ hello: 1 });
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 59) throw error;
    return db.command({ isMaster: 1 });
  }
}

/** InvalidResumeToken (260), ChangeStreamFatalError (280), ChangeStreamHistoryLost (286). */
export const RESUME_TOKEN_LOST_CODES: ReadonlySet<number> = new Set([260, 280, 286]);

/** Whether resuming from the saved token is hopeless (outside the oplog window, invalidated). */
export function isResumeTokenLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && RESUME_TOKEN_LOST_CODES.has(code);
}

/** Delay before reopening after `failures` consecutive failures: 250 ms doubling to 30 s. */
export function reopenDelayMs(failures: number): number {
  return Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
}

type Change = Document & { documentKey?: { _id?: unknown } };

/**
 * A client-wide `timeoutMS` makes `next()` on an idle stream throw `MongoOperationTimeoutError`
 * although the stream is fine and goes on with the next call (the driver's documented
 * behaviour): that is "no change yet" (null), not a broken feed.
 */
export async function nextChange<T>(stream: { next(): Promise<T> }): Promise<T | null> {
  try {
    return await stream.next();
  } catch (error) {
    if ((error as { name?: unknown } | null)?.name === 'MongoOperationTimeoutError') return null;
    throw error;
  }
}

/**
 * One collection's change stream, kept open: the driver resumes by itself after a resumable
 * error; when it gives up, this reopens with backoff (from the last resume token when there is
 * one, so nothing is missed; else fresh, announcing a change so the engine re-reads).
 */
class Feed {
  private stream: ChangeStream<Document, Change> | null = null;
  private token: ResumeToken | undefined;
  private closed = false;
  private wakeSleeper: (() => void) | null = null;
  private pumping: Promise<void> = Promise.resolve();

  constructor(
    private readonly collection: Collection<Document>,
    private readonly pipeline: readonly Document[],
    private readonly kind: StoreChange['kind'],
    private readonly deliver: (change: StoreChange) => void,
    private readonly setActive: (active: boolean) => void,
  ) {}

  /** Opens the stream; rejects when the server refuses it. Then keeps it open in the background. */
  async start(): Promise<void> {
    const stream = await this.open(false);
    this.pumping = this.pump(stream);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeSleeper?.();
    await this.stream?.close().catch(() => undefined);
    await this.pumping;
  }

  private async open(announce: boolean): Promise<ChangeStream<Document, Change>> {
    const stream = this.collection.watch<Document, Change>([...this.pipeline], this.token ? { resumeAfter: this.token } : {});
    this.stream = stream;
    const resumed = this.token !== undefined;
    // The first tryNext runs the aggregate that opens the stream: it throws if the server refuses.
    const first = await stream.tryNext();
    this.setActive(true);
    if (announce && !resumed) this.emit(undefined);
    if (first) this.handle(first);
    return stream;
  }

  private async pump(initial: ChangeStream<Document, Change>): Promise<void> {
    let stream: ChangeStream<Document, Change> | null = initial;
    let failures = 0;
    while (!this.closed) {
      try {
        stream ??= await this.open(true);
        failures = 0;
        for (;;) {
          const change = await nextChange(stream);
          if (change) this.handle(change);
        }
      } catch (error) {
        if (this.closed) break;
        const current = this.stream;
        this.token = isResumeTokenLost(error) ? undefined : (current?.resumeToken ?? this.token);
        await current?.close().catch(() => undefined);
        stream = null;
        this.setActive(false);
        await this.sleep(reopenDelayMs(failures++));
      }
    }
  }

  private handle(change: Change): void {
    const id = change.documentKey?._id;
    this.emit(typeof id === 'string' ? id : undefined);
  }

  private emit(id: string | undefined): void {
    try {
      this.deliver(id === undefined ? { kind: this.kind } : { kind: this.kind, id });
    } catch {
      // A throwing listener must not break the feed.
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
  }
}

/**
 * Change streams on the triggers and runs collections, delivering {@link StoreChange}s.
 * `onState(false)` when any stream breaks, `onState(true)` when all work again.
 */
export class ChangeFeeds {
  private readonly feeds: Feed[];
  private readonly active = new Set<StoreChange['kind']>();
  private reported = false;

  constructor(
    triggers: Collection<Document>,
    runs: Collection<Document>,
    listener: (change: StoreChange) => void,
    private readonly onState?: (active: boolean) => void,
  ) {
    this.feeds = [
      new Feed(triggers, TRIGGER_CHANGES_PIPELINE, 'trigger', listener, (active) => this.track('trigger', active)),
      new Feed(runs, RUN_CHANGES_PIPELINE, 'run', listener, (active) => this.track('run', active)),
    ];
  }

  /** Opens both streams; if either cannot be opened, closes both and rethrows. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.feeds.map((feed) => feed.start()));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.feeds.map((feed) => feed.close()));
  }

  private track(kind: StoreChange['kind'], active: boolean): void {
    if (active) this.active.add(kind);
    else this.active.delete(kind);
    const all = this.active.size === this.feeds.length;
    if (all === this.reported) return;
    this.reported = all;
    try {
      this.onState?.(all);
    } catch {
      // The state callback is informational.
    }
  }
}

/**
 * Change streams on the triggers and runs collections, started, when the server is a replica set
 * member or a mongos; null on a standalone server. Rejects when the streams cannot be opened
 * (e.g. no `changeStream` privilege).
 */
export async function openChangeFeeds(
  db: Db,
  names: { triggers: string; runs: string },
  listener: (change: StoreChange) => void,
  onState?: (active: boolean) => void,
): Promise<ChangeFeeds | null> {
  if (!supportsChangeStreams(await helloReply(db))) return null;
  const feeds = new ChangeFeeds(db.collection(names.triggers, COLLECTION_OPTIONS), db.collection(names.runs, COLLECTION_OPTIONS), listener, onState);
  await feeds.start();
  return feeds;
}
