/** Trigger detail: schedule in words, next fires, actions, run history (live) and audit trail. */
import { useEffect, useState } from 'preact/hooks';
import { act, enc, get, onLive, settings } from '../api.js';
import { ErrorNote, Field, Pager, StatusBadge, useLoad } from '../components.js';
import { fromInput, when } from '../format.js';
import { html } from '../html.js';
import type { Audit, Page, Run, Trigger, TriggerDetail } from '../wire.js';
import { mergeRun, RunTable } from './run-table.js';

export function TriggerPage({ id }: { id: string }) {
  const detail = useLoad(() => get<TriggerDetail>(`/triggers/${enc(id)}`), [id]);
  const [runCursors, setRunCursors] = useState<string[]>([]);
  const runs = useLoad(() => get<Page<Run>>(`/triggers/${enc(id)}/runs`, { cursor: runCursors[runCursors.length - 1] }), [id, runCursors]);
  const audit = useLoad(() => get<Page<Audit>>(`/triggers/${enc(id)}/audit`), [id]);
  useEffect(
    () =>
      onLive((data) => {
        if ('run' in data && data.run.triggerId === id && runs.data) runs.set({ ...runs.data, items: mergeRun(runs.data.items, data.run, runCursors.length === 0) });
        if ('trigger' in data && data.trigger.id === id) {
          detail.reload();
          audit.reload();
        }
      }),
    [id, runs.data, runCursors],
  );
  if (detail.error) return html`<h1>Trigger</h1><${ErrorNote} error=${detail.error} /><p><a href="#/triggers">Back to the triggers</a></p>`;
  if (!detail.data) return html`<h1>Trigger</h1><p class="muted" role="status">Loading…</p>`;
  const t = detail.data.trigger;
  const refresh = () => {
    detail.reload();
    runs.reload();
    audit.reload();
  };
  return html`
    <p class="crumbs"><a href="#/triggers">Triggers</a> › ${t.name}</p>
    <h1>${t.name} <${StatusBadge} status=${t.status} /></h1>
    ${t.pausedReason ? html`<p class="paused-reason">Paused: ${t.pausedReason}</p>` : ''}
    <dl class="facts">
      <dt>Schedule</dt><dd class="schedule-text">${t.scheduleText}</dd>
      <dt>Task type</dt><dd>${t.taskType}</dd>
      <dt>Owner</dt><dd>${t.owner}</dd>
      <dt>Next fire</dt><dd>${when(t.nextFireAt)}</dd>
      <dt>Policies</dt><dd>misfire ${t.misfire}, overlap ${t.overlap}, priority ${t.priority}</dd>
      <dt>Runs from schedule</dt><dd>${t.runCount}</dd>
    </dl>
    ${settings.canAct ? html`<${Actions} trigger=${t} onDone=${refresh} />` : ''}
    <section aria-labelledby="next-h"><h2 id="next-h">Next 10 fires</h2>
      ${detail.data.next.length === 0 ? html`<p class="muted">None: this schedule fires only on demand, or has ended.</p>` : html`<ol class="next-fires">${detail.data.next.map((at: string) => html`<li key=${at}><time datetime=${at}>${when(at)}</time></li>`)}</ol>`}
    </section>
    <section aria-labelledby="runs-h"><h2 id="runs-h">Runs</h2>
      <${ErrorNote} error=${runs.error} />
      ${runs.data && html`<${RunTable} runs=${runs.data.items} showTrigger=${false} onChanged=${refresh} /><${Pager} cursors=${runCursors} next=${runs.data.nextCursor} onPage=${setRunCursors} />`}
    </section>
    <section aria-labelledby="audit-h"><h2 id="audit-h">Audit trail</h2>
      <${ErrorNote} error=${audit.error} />
      ${audit.data &&
      html`<table class="grid"><caption class="sr-only">Audit trail</caption><thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Details</th></tr></thead>
        <tbody>${audit.data.items.map((a) => html`<tr key=${a.id}><td>${when(a.at)}</td><td>${a.actor}</td><td>${a.action}</td><td class="small">${a.details && Object.keys(a.details).length > 0 ? JSON.stringify(a.details) : a.runId ?? ''}</td></tr>`)}</tbody></table>`}
    </section>
  `;
}

function Actions({ trigger, onDone }: { trigger: Trigger; onDone: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('');
  const [range, setRange] = useState({ from: '', to: '' });
  const [confirm, setConfirm] = useState('');
  const path = `/triggers/${enc(trigger.id)}`;
  const run = <R,>(action: string, body: Record<string, unknown>, done: (result: R) => string) => (e?: Event) => {
    e?.preventDefault();
    act<R>(`${path}/${action}`, body).then(
      (result) => {
        setError(null);
        setNote(done(result));
        if (action === 'delete') location.hash = '#/triggers';
        else onDone();
      },
      (failure) => {
        setNote('');
        setError(failure);
      },
    );
  };
  return html`<section class="actions-panel" aria-labelledby="actions-h"><h2 id="actions-h">Actions</h2>
    <${ErrorNote} error=${error} />
    ${note ? html`<p class="note" role="status">${note}</p>` : ''}
    <div class="action-row">
      ${trigger.status === 'active'
        ? html`<form onSubmit=${run('pause', { reason }, () => 'Paused.')}><${Field} label="Pause reason"><input name="reason" maxLength="500" value=${reason} onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} /><//><button type="submit">Pause</button></form>`
        : ''}
      ${trigger.status === 'paused' ? html`<button type="button" onClick=${run('resume', {}, () => 'Resumed.')}>Resume</button>` : ''}
      <button type="button" onClick=${run<Run>('run', {}, (r) => `Run ${r.id} created.`)}>Run now</button>
    </div>
    <form class="action-row" onSubmit=${run('backfill', { from: fromInput(range.from), to: fromInput(range.to) }, (r: { created: number; alreadyRun: number; slots: number }) => `Backfill: ${r.created} runs created, ${r.alreadyRun} slots had run, of ${r.slots}.`)}>
      <${Field} label="Backfill from (UTC)"><input type="datetime-local" value=${range.from} onInput=${(e: Event) => setRange({ ...range, from: (e.target as HTMLInputElement).value })} /><//>
      <${Field} label="Backfill to (UTC)"><input type="datetime-local" value=${range.to} onInput=${(e: Event) => setRange({ ...range, to: (e.target as HTMLInputElement).value })} /><//>
      <button type="submit">Backfill</button>
    </form>
    <form class="action-row danger" onSubmit=${run('delete', { confirm }, () => 'Deleted.')}>
      <${Field} label=${`Type ${trigger.name} to delete`}><input name="confirm" value=${confirm} onInput=${(e: Event) => setConfirm((e.target as HTMLInputElement).value)} /><//>
      <button type="submit" disabled=${confirm !== trigger.name}>Delete trigger</button>
    </form>
  </section>`;
}
