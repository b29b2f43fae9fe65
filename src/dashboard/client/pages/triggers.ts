/** Triggers: status, next fire, last outcome and recent runs, with filters, search and paging. */
import { useEffect, useState } from 'preact/hooks';
import { enc, get, onLive, settings } from '../api.js';
import { ErrorNote, Field, Pager, RunStrip, StatusBadge, useLoad } from '../components.js';
import { when } from '../format.js';
import { html } from '../html.js';
import type { Page, TriggerRow } from '../wire.js';

const RELOAD_ON = ['run:started', 'run:completed', 'run:failed', 'run:cancelled', 'run:timed-out'];
const RELOAD_EVERY_MS = 2_000;

interface Filters {
  q: string;
  status: string;
  taskType: string;
  owner: string;
}

/**
 * A started or finished run or a changed trigger changes the table: reload it, at most every two
 * seconds however busy the scheduler is.
 */
function useLiveReload(reload: () => void): void {
  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | null = null;
    const off = onLive((data) => {
      if (pending || !('trigger' in data || RELOAD_ON.includes(data.event))) return;
      pending = setTimeout(() => {
        pending = null;
        reload();
      }, RELOAD_EVERY_MS);
    });
    return () => {
      off();
      if (pending) clearTimeout(pending);
    };
  }, []);
}

export function TriggersPage() {
  const [draft, setDraft] = useState<Filters>({ q: '', status: '', taskType: '', owner: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const [cursors, setCursors] = useState<string[]>([]);
  const page = useLoad(() => get<Page<TriggerRow>>('/triggers', { ...filters, cursor: cursors[cursors.length - 1] }), [filters, cursors]);
  useLiveReload(page.reload);
  const set = (key: keyof Filters) => (e: Event) => setDraft({ ...draft, [key]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    setCursors([]);
    setFilters(draft);
  };
  return html`
    <h1>Triggers</h1>
    <form class="filters" role="search" aria-label="Filter triggers" onSubmit=${submit}>
      <${Field} label="Search name or task type"><input type="search" name="q" value=${draft.q} onInput=${set('q')} /><//>
      <${Field} label="Status">
        <select name="status" value=${draft.status} onChange=${set('status')}>
          <option value="">any</option><option value="active">active</option><option value="paused">paused</option><option value="completed">completed</option>
        </select>
      <//>
      <${Field} label="Task type"><input name="taskType" value=${draft.taskType} onInput=${set('taskType')} /><//>
      ${settings.owner === undefined ? html`<${Field} label="Owner"><input name="owner" value=${draft.owner} onInput=${set('owner')} /><//>` : ''}
      <button type="submit">Apply</button>
    </form>
    <${ErrorNote} error=${page.error} />
    ${page.data &&
    html`<table class="grid">
        <caption class="sr-only">Triggers</caption>
        <thead><tr><th scope="col">Name</th>${settings.owner === undefined ? html`<th scope="col">Owner</th>` : ''}<th scope="col">Status</th><th scope="col">Schedule</th><th scope="col">Next fire</th><th scope="col">Last outcome</th><th scope="col">Recent runs</th></tr></thead>
        <tbody>
          ${page.data.items.length === 0 ? html`<tr><td colspan="7" class="muted">No triggers match.</td></tr>` : ''}
          ${page.data.items.map(
            (t) => html`<tr key=${t.id}>
              <td><a href=${`#/trigger/${enc(t.id)}`}>${t.name}</a><div class="muted small">${t.taskType}</div></td>
              ${settings.owner === undefined ? html`<td>${t.owner}</td>` : ''}
              <td><${StatusBadge} status=${t.status} />${t.pausedReason ? html`<div class="small">${t.pausedReason}</div>` : ''}</td>
              <td>${t.scheduleText}</td>
              <td>${when(t.nextFireAt)}</td>
              <td>${t.lastOutcome ? html`<${StatusBadge} status=${t.lastOutcome.status} /> <span class="small muted">${when(t.lastOutcome.at)}</span>` : html`<span class="muted">—</span>`}</td>
              <td><${RunStrip} runs=${t.recent} /></td>
            </tr>`,
          )}
        </tbody>
      </table>
      <${Pager} cursors=${cursors} next=${page.data.nextCursor} onPage=${setCursors} />`}
  `;
}
