/** Runs: filter by status, task type, owner and time range, with paging and live changes. */
import { useEffect, useState } from 'preact/hooks';
import { get, onLive, settings } from '../api.js';
import { ErrorNote, Field, Pager, useLoad } from '../components.js';
import { fromInput } from '../format.js';
import { html } from '../html.js';
import type { Page, Run } from '../wire.js';
import { mergeRun, RunTable } from './run-table.js';

const STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'timed_out', 'skipped'];

export function RunsPage() {
  const empty = { status: '', taskType: '', owner: '', from: '', to: '' };
  const [draft, setDraft] = useState(empty);
  const [filters, setFilters] = useState(empty);
  const [cursors, setCursors] = useState<string[]>([]);
  const query = { status: filters.status, taskType: filters.taskType, owner: filters.owner, from: fromInput(filters.from), to: fromInput(filters.to) };
  const page = useLoad(() => get<Page<Run>>('/runs', { ...query, cursor: cursors[cursors.length - 1] }), [filters, cursors]);
  useEffect(
    () =>
      onLive((data) => {
        // Runs already on screen move live; new runs appear on the next load.
        if ('run' in data && page.data) page.set({ ...page.data, items: mergeRun(page.data.items, data.run, false) });
      }),
    [page.data],
  );
  const set = (key: keyof typeof empty) => (e: Event) => setDraft({ ...draft, [key]: (e.target as HTMLInputElement).value });
  return html`
    <h1>Runs</h1>
    <form class="filters" aria-label="Filter runs" onSubmit=${(e: Event) => (e.preventDefault(), setCursors([]), setFilters(draft))}>
      <${Field} label="Status">
        <select name="status" value=${draft.status} onChange=${set('status')}>
          <option value="">any</option>${STATUSES.map((s) => html`<option value=${s}>${s.replace('_', ' ')}</option>`)}
        </select>
      <//>
      <${Field} label="Task type"><input name="taskType" value=${draft.taskType} onInput=${set('taskType')} /><//>
      ${settings.owner === undefined ? html`<${Field} label="Owner"><input name="owner" value=${draft.owner} onInput=${set('owner')} /><//>` : ''}
      <${Field} label="Scheduled from (UTC)"><input type="datetime-local" name="from" value=${draft.from} onInput=${set('from')} /><//>
      <${Field} label="Scheduled before (UTC)"><input type="datetime-local" name="to" value=${draft.to} onInput=${set('to')} /><//>
      <button type="submit">Apply</button>
    </form>
    <${ErrorNote} error=${page.error} />
    ${page.data && html`<${RunTable} runs=${page.data.items} showTrigger=${true} onChanged=${page.reload} /><${Pager} cursors=${cursors} next=${page.data.nextCursor} onPage=${setCursors} />`}
  `;
}
