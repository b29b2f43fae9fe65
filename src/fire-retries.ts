import type { SlotFire } from './stores/types.js';

/**
 * What the dispatcher keeps for slot fires it must send again (the store threw, or answered
 * `failed`, maybe after writing part of them): the lease token of each run created claimed, by
 * run id. The retry carries the same token, so a run already written under it is recognised by
 * the store as this instance's (`fired`) instead of a duplicate left to lease expiry.
 */
export class FireRetries {
  private readonly tokens = new Map<string, { version: number; token: string }>();

  keep(fire: SlotFire): void {
    if (fire.run?.lease) this.tokens.set(fire.run.id, { version: fire.expectedVersion, token: fire.run.lease.token });
  }

  /** The fire settled (fired, duplicate, stale): nothing to carry over. */
  forget(fire: SlotFire): void {
    if (fire.run && this.tokens.size > 0) this.tokens.delete(fire.run.id);
  }

  /** The token an earlier attempt of this slot used, when it fired the same trigger version. */
  tokenFor(runId: string, version: number): string | undefined {
    if (this.tokens.size === 0) return undefined;
    const kept = this.tokens.get(runId);
    return kept && kept.version === version ? kept.token : undefined;
  }

  clear(): void {
    this.tokens.clear();
  }
}

/** Delay before a slot the store answered `failed` for is fired again: from 100 ms, doubling, up to `maxMs`. */
export function fireRetryDelayMs(failures: number, maxMs: number): number {
  return Math.min(maxMs, 50 * 2 ** Math.min(failures, 10));
}
