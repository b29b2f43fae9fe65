/**
 * Types that carry a trigger's task type from `create`/`upsert` to `runNow`/`runMany`, so a
 * run's payload override is checked against the right schema at compile time.
 */
import type { PayloadOf, SchemaMap } from './registry.js';
import type { AnyPayload, TriggerSettings } from './trigger-input.js';
import type { TriggerRecord } from './types.js';

/**
 * What a method takes: `Typed` on a scheduler whose task types TypeScript knows (`Scheduler<S>`,
 * as `createScheduler` returns it), `unknown` on `Scheduler` without a type argument, the type
 * an HTTP layer or any host passes request data through. Either way punctual checks the value
 * at run time and names each bad field; the host needs no cast.
 * @example
 * function routes(scheduler: Scheduler) {
 *   app.post('/triggers', async (req, res) => res.json(await scheduler.triggers.create(req.body)));
 * }
 */
export type HostInput<S, Typed> = 0 extends 1 & S ? unknown : Typed;

/**
 * Input of `create` and `upsert` for one task type `K`. In the admin view `owner` is required;
 * in a scoped view (`Scoped` true) it is the view's and may be omitted.
 */
export type TriggerInputFor<S extends SchemaMap, K extends keyof S & string, Scoped extends boolean = false> = TriggerSettings & {
  taskType: K;
  payload: PayloadOf<S, K>;
} & (Scoped extends true ? { owner?: string } : { owner: string });

/**
 * A stored trigger whose task type is known to TypeScript: what `create` and `upsert` return.
 * Pass it to `runNow`/`runMany` and their payload overrides are typed by its task type.
 * @example
 * const report = await scheduler.triggers.create({ name: 'report', owner: 'u1', taskType: 'send-report', payload: { to: 'a@example.com' }, schedule: { manual: true } });
 * await scheduler.triggers.runNow(report, { payload: { to: 'b@example.com' } });
 */
export type TypedTrigger<S extends SchemaMap, K extends keyof S & string = keyof S & string> = TriggerRecord & {
  taskType: K;
  payload: PayloadOf<S, K>;
};

/** What `runNow` and `runMany` accept: a trigger id, or a trigger (a typed handle, or any stored trigger). */
export type TriggerRef = string | { readonly id: string; readonly taskType: string };

/** The payload type of runs of `T`: its task type's when `T` is a typed handle, else any registered payload. */
export type PayloadFor<S extends SchemaMap, T> = T extends { readonly taskType: infer K }
  ? string extends K
    ? AnyPayload<S>
    : K extends keyof S & string
      ? PayloadOf<S, K>
      : AnyPayload<S>
  : AnyPayload<S>;

/** What `upsert` did: `created` a new trigger, `updated` the one stored, or left it `unchanged` (nothing written). */
export type UpsertAction = 'created' | 'updated' | 'unchanged';

export interface UpsertResult<T = TriggerRecord> {
  trigger: T;
  action: UpsertAction;
}
