/** A table of runs with attempts, errors, progress and durations, and the cancel and retry actions. */
import { useState } from 'preact/hooks';
import { act, enc, settings } from '../api.js';
import { ErrorNote, Progress, StatusBadge } from '../components.js';
import { duration, when } from '../format.js';
import { html } from '../html.js';
import type { Run } from '../wire.js';

export function RunTable({ runs, showTrigger, onChanged }: { runs: Run[]; showTrigger: boolean; onChanged: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const run = (path: string) => () =>
    act(path).then(
      () => (setError(null), onChanged()),
      (e) => setError(e),
    );
  return html`
    <${ErrorNote} error=${error} />
    <table class="grid">
      <caption class="sr-only">Runs</caption>
      <thead><tr>
        ${showTrigger ? html`<th scope="col">Trigger</th>` : ''}<th scope="col">Status</th><th scope="col">Scheduled</th><th scope="col">Source</th>
        <th scope="col">Attempts</th><th scope="col">Duration</th><th scope="col">Progress</th><th scope="col">Error</th>${settings.canAct ? html`<th scope="col">Actions</th>` : ''}
      </tr></thead>
      <tbody>
        ${runs.length === 0 ? html`<tr><td colspan="9" class="muted">No runs.</td></tr>` : ''}
        ${runs.map(
          (r) => html`<tr key=${r.id} data-run=${r.id}>
            ${showTrigger ? html`<td><a href=${`#/trigger/${enc(r.triggerId)}`}>${r.triggerName}</a><div class="muted small">${r.taskType}${settings.owner === undefined ? ` · ${r.owner}` : ''}</div></td>` : ''}
            <td><${StatusBadge} status=${r.status} /></td>
            <td>${when(r.scheduledFor)}</td>
            <td>${r.source}</td>
            <td>${r.attempt} / ${r.maxAttempts}${r.attempts.length > 0 ? html`<details><summary>history</summary><ol class="small">${r.attempts.map((a) => html`<li>#${a.attempt} ${a.outcome} on ${a.instanceId}, ${duration(Date.parse(a.finishedAt) - Date.parse(a.startedAt))}${a.error ? `: ${a.error.name}: ${a.error.message}` : ''}</li>`)}</ol></details>` : ''}</td>
            <td>${duration(r.durationMs)}</td>
            <td><${Progress} progress=${r.progress} /></td>
            <td>${r.error ? html`<span class="run-error">${r.error.name}: ${r.error.message}</span>` : ''}</td>
            ${settings.canAct
              ? html`<td class="actions">
                  ${r.status === 'pending' || r.status === 'running' ? html`<button type="button" onClick=${run(`/runs/${enc(r.id)}/cancel`)} aria-label=${`Cancel run ${r.id}`}>Cancel</button>` : ''}
                  ${r.status === 'failed' || r.status === 'timed_out' ? html`<button type="button" onClick=${run(`/runs/${enc(r.id)}/retry`)} aria-label=${`Retry run ${r.id}`}>Retry</button>` : ''}
                </td>`
              : ''}
          </tr>`,
        )}
      </tbody>
    </table>
  `;
}

/** Applies a live run event to a list: replaces the run with the same id, or adds it on top when `accept`. */
export function mergeRun(runs: Run[], run: Run, accept: boolean): Run[] {
  const index = runs.findIndex((r) => r.id === run.id);
  if (index >= 0) return runs.map((r, i) => (i === index ? run : r));
  return accept ? [run, ...runs] : runs;
}
