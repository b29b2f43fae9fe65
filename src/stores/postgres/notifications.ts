import type { Notification, Pool, PoolClient } from 'pg';
import type { StoreChange } from '../types.js';
import { toStoreError } from './errors.js';
import { quoteIdent } from './schema.js';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;
/** A query on the listening connection this often, to notice a silently dropped socket. */
const HEARTBEAT_MS = 15_000;

const ignore = (): void => undefined;

/**
 * One LISTEN feed: a connection taken from the pool for as long as the subscription lasts.
 * When the connection breaks it reports `onState(false)`, reconnects with exponential
 * backoff (100 ms doubling to 5 s), reports `onState(true)` and delivers one `trigger` and one
 * `run` change, since notifications sent while it was away are lost.
 */
export class ChangeFeed {
  private client: PoolClient | null = null;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly listener: (change: StoreChange) => void,
    private readonly onState: ((active: boolean) => void) | undefined,
  ) {}

  /** Connects and listens; rejects (StoreError) when the first connection fails. */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      throw toStoreError('subscribe', error);
    }
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.retryTimer = this.heartbeat = null;
    const client = this.client;
    if (!client) return;
    this.client = null;
    this.detach(client);
    try {
      await client.query(`UNLISTEN ${quoteIdent(this.channel)}`);
      client.removeListener('error', ignore);
      client.release();
    } catch (error) {
      client.release(error instanceof Error ? error : true);
    }
  }

  private async connect(): Promise<void> {
    const client = await this.pool.connect();
    client.on('notification', this.onNotification);
    client.on('error', this.onError);
    client.on('end', this.onEnd);
    try {
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch (error) {
      this.detach(client);
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    if (this.closed) {
      this.detach(client);
      client.release(true);
      return;
    }
    this.client = client;
  }

  private readonly onNotification = (message: Notification): void => {
    if (message.channel !== this.channel) return;
    this.deliver(message.payload === 'run' ? 'run' : 'trigger');
  };

  private readonly onError = (): void => this.lost();
  private readonly onEnd = (): void => this.lost();

  private async beat(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      await client.query('SELECT 1');
    } catch {
      this.lost();
    }
  }

  private deliver(kind: StoreChange['kind']): void {
    try {
      this.listener({ kind });
    } catch {
      // A throwing listener must not break the feed.
    }
  }

  /** The connection broke: drop it and reconnect after a pause. */
  private lost(): void {
    const client = this.client;
    if (!client) return;
    this.client = null;
    this.detach(client);
    client.release(true);
    if (this.closed) return;
    this.onState?.(false);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = Math.min(FIRST_RETRY_MS * 2 ** this.failures, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => void this.reconnect(), delay);
    this.retryTimer.unref();
  }

  private async reconnect(): Promise<void> {
    this.retryTimer = null;
    if (this.closed) return;
    try {
      await this.connect();
    } catch {
      this.failures++;
      if (!this.closed) this.scheduleReconnect();
      return;
    }
    if (this.closed) return;
    this.failures = 0;
    this.onState?.(true);
    this.deliver('trigger');
    this.deliver('run');
  }

  /** Removes the feed's handlers, keeping a silent one: a broken client may still emit a late error. */
  private detach(client: PoolClient): void {
    client.removeListener('notification', this.onNotification);
    client.removeListener('error', this.onError);
    client.removeListener('end', this.onEnd);
    client.on('error', ignore);
  }
}
