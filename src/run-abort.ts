/** A run's abort switch and the race between a handler and its abort. */

import { jsonIssue } from './json-limits.js';

/**
 * Why a handler's result cannot be stored (too deep, a cycle, a BigInt, NUL in a string...),
 * or null when it can. `undefined` (no result) is fine.
 */
export function unstorable(value: unknown): string | null {
  if (value === undefined) return null;
  const issue = jsonIssue(value, 'result', { dates: true });
  return issue ? `${issue.path}: ${issue.message}` : null;
}

/**
 * A run's abort switch. The handler's `AbortSignal` is made on first use of `signal`: most
 * handlers never read it, and an AbortController (an EventTarget) costs more to make and to
 * listen to than the rest of a run's bookkeeping. The first `abort` wins, as with a controller.
 */
export class RunAbort {
  aborted = false;
  reason: unknown = undefined;
  /** Called once, at the first abort (the race in `raceAbort`). */
  onAbort: ((reason: unknown) => void) | null = null;
  private controller: AbortController | null = null;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const onAbort = this.onAbort;
    this.onAbort = null;
    onAbort?.(reason);
    this.controller?.abort(reason);
  }
}

/** Resolves or rejects with the handler, or rejects with the abort reason as soon as the run is aborted. */
export function raceAbort<T>(work: Promise<T>, abort: RunAbort): Promise<T> {
  if (abort.aborted) {
    // The handler still runs (and may reject once it sees the aborted signal): nothing waits for it.
    work.catch(() => undefined);
    return Promise.reject(abort.reason);
  }
  return new Promise<T>((resolve, reject) => {
    abort.onAbort = reject;
    work.then(
      (value) => {
        abort.onAbort = null;
        resolve(value);
      },
      (error: unknown) => {
        abort.onAbort = null;
        reject(error);
      },
    );
  });
}
