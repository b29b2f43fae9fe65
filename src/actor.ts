import { ValidationError } from './errors.js';
import { textIssue } from './json-limits.js';

/** Who did it, for the audit trail. Default: the scoped owner, else `system`. */
export interface ActorOptions {
  /** 1-200 characters, e.g. a user id. */
  actor?: string;
}

/** The audit actor: the one given (1-200 characters), else the scoped owner, else `system`. */
export function resolveActor(options: ActorOptions, scopeOwner?: string): string {
  if (options.actor !== undefined && (typeof options.actor !== 'string' || options.actor.length === 0 || options.actor.length > 200)) {
    throw ValidationError.from([{ path: 'actor', message: 'must be a string of 1-200 characters' }], 'Invalid actor');
  }
  const unstorable = textIssue(options.actor, 'actor');
  if (unstorable) throw ValidationError.from([unstorable], 'Invalid actor');
  return options.actor ?? scopeOwner ?? 'system';
}
