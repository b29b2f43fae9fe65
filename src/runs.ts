import { recordAudit, type Engine } from './engine.js';
import { ConflictError, NotFoundError, type ValidationIssue } from './errors.js';
import { checkOptionKeys } from './option-keys.js';
import { decodeCursor, pageOf } from './cursor.js';
import { checkChoice, checkDate, checkPage, checkText, throwIfIssues } from './paging.js';
import { resolveActor, type ActorOptions } from './actor.js';
import { checkId } from './trigger-input.js';
import { RUN_SOURCES, RUN_STATUSES, type Page, type PageQuery, type RunRecord, type RunSource, type RunStatus } from './types.js';

/** Filters and paging of `runs.list` (newest `scheduledFor` first). */
export interface RunListQuery extends PageQuery {
  /** Admin view only: one owner's runs. */
  owner?: string;
  triggerId?: string;
  status?: RunStatus;
  taskType?: string;
  source?: RunSource;
  /** Runs scheduled at or after this instant. */
  from?: Date;
  /** Runs scheduled before this instant. */
  to?: Date;
}

/** Run history and cancellation. In a scoped view every call is limited to one owner. */
export interface RunsApi {
  /** Throws NotFoundError when missing or owned by someone else. */
  get(runId: string): Promise<RunRecord>;
  /**
   * Newest `scheduledFor` first, then by id; one page per call, the next through `cursor`.
   * Runs created between two calls never make another run appear twice or be skipped.
   */
  list(query?: RunListQuery): Promise<Page<RunRecord>>;
  /**
   * Cancels a pending run at once, or asks the instance running it to abort its handler
   * (`ctx.signal` is aborted with a CancelledError). Throws NotFoundError when the run is
   * missing, someone else's, or already finished.
   */
  cancel(runId: string, options?: ActorOptions): Promise<RunRecord>;
}

export class RunService implements RunsApi {
  constructor(
    private readonly engine: Engine,
    private readonly cancelLocal: (runId: string) => void,
    private readonly scopeOwner?: string,
  ) {}

  async get(runId: string): Promise<RunRecord> {
    await this.engine.ready();
    const run = await this.engine.store.getRun(checkId(runId, 'run'), this.scopeOwner);
    if (!run) throw new NotFoundError(`Run ${runId} not found`);
    return run;
  }

  async list(query: RunListQuery = {}): Promise<Page<RunRecord>> {
    checkOptionKeys(query, ['owner', 'triggerId', 'status', 'taskType', 'source', 'from', 'to', 'limit', 'cursor', 'offset'], 'Invalid run query');
    const { limit, cursor } = checkPage(query);
    const issues: ValidationIssue[] = [];
    checkChoice(query.status, RUN_STATUSES, 'status', issues);
    checkChoice(query.source, RUN_SOURCES, 'source', issues);
    checkText(query.taskType, 'taskType', issues);
    checkText(query.owner, 'owner', issues);
    if (query.triggerId !== undefined) checkId(query.triggerId, 'trigger');
    checkDate(query.from, 'from', issues);
    checkDate(query.to, 'to', issues);
    throwIfIssues(issues, 'Invalid run query');
    const filters = {
      owner: this.scopeOwner ?? query.owner,
      triggerId: query.triggerId,
      status: query.status,
      taskType: query.taskType,
      source: query.source,
      from: query.from,
      to: query.to,
    };
    const binding = { list: 'runs', ...filters };
    const position = cursor === undefined ? undefined : decodeCursor(cursor, binding, 'time');
    await this.engine.ready();
    const defined = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
    const rows = await this.engine.store.listRuns({
      ...defined,
      limit: limit + 1,
      ...(position ? { after: { scheduledFor: new Date(position.key), id: position.id } } : {}),
    });
    return pageOf(rows, limit, binding, (run) => run.scheduledFor.getTime());
  }

  async cancel(runId: string, options: ActorOptions = {}): Promise<RunRecord> {
    const { engine } = this;
    checkId(runId, 'run');
    checkOptionKeys(options, ['actor'], 'Invalid cancel');
    const actor = resolveActor(options, this.scopeOwner);
    await engine.ready();
    const run = await engine.store.cancelRun(runId, engine.now(), engine.options.retentionMs, this.scopeOwner);
    if (!run) {
      const existing = await engine.store.getRun(runId, this.scopeOwner);
      if (!existing) throw new NotFoundError(`Run ${runId} not found`);
      throw new ConflictError(`Run ${runId} already finished (${existing.status}); only pending and running runs can be cancelled`);
    }
    if (run.status === 'cancelled') {
      engine.metrics.increment('runsCancelled');
      engine.events.emit('run:cancelled', { run, reason: 'cancelled before it started' });
    } else {
      this.cancelLocal(runId);
    }
    await recordAudit(engine, { actor, action: 'run.cancel', owner: run.owner, triggerId: run.triggerId, runId });
    return run;
  }
}
