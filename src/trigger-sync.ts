/**
 * `triggers.sync`: make one owner's declared triggers the stored set. Every declaration is
 * upserted; stored triggers of that owner (within `namePrefix`) that are no longer declared
 * are paused or deleted, so removing a job from the code stops it.
 */
import { resolveActor } from './actor.js';
import type { ApiContext } from './engine.js';
import { ValidationError, type ValidationIssue } from './errors.js';
import { checkOptionKeys } from './option-keys.js';
import { validateCreateInput, withScopeOwner } from './trigger-record.js';
import type { UpsertResult } from './trigger-handle.js';
import { NAME_PATTERN, OWNER_PATTERN } from './trigger-input.js';
import { upsertTrigger } from './trigger-upsert.js';
import type { TriggerRecord } from './types.js';

/** Options of `triggers.sync`. */
export interface SyncOptions {
  /** Whose triggers the declarations are. Required in the admin view; a scoped view's own owner otherwise. */
  owner?: string;
  /**
   * Only stored triggers whose name starts with this are compared with the declarations (and
   * pruned); every declared name must start with it. Use it so triggers created at run time (by
   * an API, a UI) are left alone. Default: all of the owner's triggers.
   */
  namePrefix?: string;
  /**
   * What happens to the owner's stored triggers that are not declared: `pause` (default; a
   * trigger paused this way is resumed when declared again), `delete` (its pending runs are
   * cancelled), or `keep`.
   */
  prune?: 'pause' | 'delete' | 'keep';
  /** Who did it, for the audit trail. Default: the scoped owner, else `system`. */
  actor?: string;
}

export interface SyncResult {
  /** One per declaration, in order. */
  results: UpsertResult[];
  /** Stored triggers that were not declared, and what was done to them (`kept` with `prune: 'keep'`). */
  undeclared: { trigger: TriggerRecord; action: 'paused' | 'deleted' | 'kept' }[];
}

/** Most declarations per `sync` call. */
export const MAX_SYNC_TRIGGERS = 1_000;
/** The pause reason sync writes; a trigger paused with it is resumed when it is declared again. */
export const UNDECLARED_REASON = 'not declared by triggers.sync';
const SYNC_OPTION_KEYS = ['owner', 'namePrefix', 'prune', 'actor'];

/** What sync needs from the trigger service: the audited, event-emitting pause, resume and delete. */
export interface SyncActions {
  pause(id: string, options: { actor: string; reason: string }): Promise<TriggerRecord>;
  resume(id: string, options: { actor: string }): Promise<TriggerRecord>;
  delete(id: string, options: { actor: string }): Promise<void>;
}

export async function syncTriggers(engine: ApiContext, inputs: readonly unknown[], options: SyncOptions, scopeOwner: string | undefined, actions: SyncActions): Promise<SyncResult> {
  checkOptionKeys(options, SYNC_OPTION_KEYS, 'Invalid sync options');
  const actor = resolveActor(options, scopeOwner);
  const { owner, prefix, prune } = checkSyncOptions(options, scopeOwner, inputs);
  await engine.ready();
  const declared = await validateAll(engine, inputs, owner, prefix);
  const results: UpsertResult[] = [];
  for (const input of declared) {
    const result = await upsertTrigger(engine, input, actor);
    if (result.trigger.status === 'paused' && result.trigger.pausedReason === UNDECLARED_REASON) {
      results.push({ trigger: await actions.resume(result.trigger.id, { actor }), action: 'updated' });
    } else results.push(result);
  }
  const names = new Set(results.map((r) => r.trigger.name));
  const undeclared: SyncResult['undeclared'] = [];
  for (const trigger of await ownerTriggers(engine, owner, prefix)) {
    if (names.has(trigger.name)) continue;
    if (prune === 'keep') undeclared.push({ trigger, action: 'kept' });
    else if (prune === 'delete') {
      // Another instance syncing the same declarations may have deleted it first.
      await actions.delete(trigger.id, { actor }).catch((error: unknown) => {
        if (!(error instanceof Error && error.name === 'NotFoundError')) throw error;
      });
      undeclared.push({ trigger, action: 'deleted' });
    } else {
      const paused = trigger.status === 'active' ? await actions.pause(trigger.id, { actor, reason: UNDECLARED_REASON }) : trigger;
      undeclared.push({ trigger: paused, action: 'paused' });
    }
  }
  return { results, undeclared };
}

function checkSyncOptions(options: SyncOptions, scopeOwner: string | undefined, inputs: readonly unknown[]): { owner: string; prefix: string; prune: 'pause' | 'delete' | 'keep' } {
  const issues: ValidationIssue[] = [];
  const owner = scopeOwner ?? options.owner;
  if (scopeOwner !== undefined && options.owner !== undefined && options.owner !== scopeOwner) issues.push({ path: 'owner', message: 'must be the owner of this view (or omitted)' });
  if (typeof owner !== 'string' || !OWNER_PATTERN.test(owner)) issues.push({ path: 'owner', message: 'is required: the owner whose triggers are declared' });
  const prefix = options.namePrefix ?? '';
  if (typeof prefix !== 'string' || (prefix !== '' && !NAME_PATTERN.test(prefix))) issues.push({ path: 'namePrefix', message: 'must be 1-100 letters, digits, "-" or "_"' });
  const prune = options.prune ?? 'pause';
  if (!['pause', 'delete', 'keep'].includes(prune)) issues.push({ path: 'prune', message: 'must be one of "pause", "delete", "keep"' });
  if (!Array.isArray(inputs) || inputs.length > MAX_SYNC_TRIGGERS) issues.push({ path: 'triggers', message: `must be an array of at most ${MAX_SYNC_TRIGGERS} trigger declarations` });
  if (issues.length > 0) throw ValidationError.from(issues, 'Invalid sync');
  return { owner: owner as string, prefix, prune };
}

/** Validates every declaration before writing anything; issues are named `triggers.3.schedule`. */
async function validateAll(engine: ApiContext, inputs: readonly unknown[], owner: string, prefix: string): Promise<unknown[]> {
  const issues: ValidationIssue[] = [];
  const names = new Set<string>();
  const declared: unknown[] = [];
  for (const [i, input] of inputs.entries()) {
    try {
      const scoped = withScopeOwner(input, owner, `triggers.${i}.owner`);
      const valid = await validateCreateInput(engine, scoped, engine.now());
      if (!valid.name.startsWith(prefix)) issues.push({ path: `triggers.${i}.name`, message: `must start with namePrefix ${JSON.stringify(prefix)}` });
      if (names.has(valid.name)) issues.push({ path: `triggers.${i}.name`, message: `${JSON.stringify(valid.name)} is declared twice` });
      names.add(valid.name);
      declared.push(scoped);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) issues.push({ path: issue.path.startsWith('triggers.') ? issue.path : `triggers.${i}.${issue.path}`.replace(/\.$/, ''), message: issue.message });
    }
  }
  if (issues.length > 0) throw ValidationError.from(issues.slice(0, 100), 'Invalid trigger declarations');
  return declared;
}

/** The owner's stored triggers within the prefix. Queue triggers of `enqueue` (names outside NAME_PATTERN) are never declared, so never pruned. */
async function ownerTriggers(engine: ApiContext, owner: string, prefix: string): Promise<TriggerRecord[]> {
  const found: TriggerRecord[] = [];
  let after: { value: Date; id: string } | undefined;
  for (;;) {
    const page = await engine.store.listTriggers({ owner, ...(prefix ? { namePrefix: prefix } : {}), sort: 'createdAt', order: 'asc', limit: 500, ...(after ? { after } : {}) });
    found.push(...page.filter((t) => NAME_PATTERN.test(t.name)));
    const last = page[page.length - 1];
    if (page.length < 500 || !last) return found;
    after = { value: last.createdAt, id: last.id };
  }
}
