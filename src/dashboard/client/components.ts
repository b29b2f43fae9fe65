/** Small pieces shared by the pages. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { duration } from './format.js';
import { html } from './html.js';

export function StatusBadge({ status }: { status: string }) {
  return html`<span class="badge badge-${status}">${status.replace('_', ' ')}</span>`;
}

/** Recent runs, oldest left: a coloured square each, with its status and duration in words. */
export function RunStrip({ runs }: { runs: { id: string; status: string; durationMs: number | null }[] }) {
  if (runs.length === 0) return html`<span class="muted">no runs yet</span>`;
  const label = (r: { status: string; durationMs: number | null }) => `${r.status.replace('_', ' ')}${r.durationMs !== null ? `, ${duration(r.durationMs)}` : ''}`;
  return html`<ol class="strip" aria-label="Recent runs, oldest first">
    ${[...runs].reverse().map((r) => html`<li key=${r.id} class="strip-${r.status}" title=${label(r)}><span class="sr-only">${label(r)}</span></li>`)}
  </ol>`;
}

export function Progress({ progress }: { progress?: { percent: number; note?: string } }) {
  if (!progress) return html`<span class="muted">—</span>`;
  return html`<span class="progress-cell"><progress max="100" value=${progress.percent} aria-label=${`progress ${progress.percent}%`}></progress> ${progress.percent}%${progress.note ? html` <span class="muted">${progress.note}</span>` : ''}</span>`;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiError ? `${error.message}` : String((error as Error).message ?? error);
  return html`<p class="error" role="alert">${message}</p>`;
}

/** Loads `load()` now and whenever `deps` change; `reload()` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: unknown; reload: () => void; set: (next: T) => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    load().then(
      (value) => alive && (setData(value), setError(null)),
      (failure) => alive && setError(failure),
    );
    return () => {
      alive = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1), set: setData };
}

/** Previous / next buttons over cursors: the stack of cursors seen is the way back. */
export function Pager({ cursors, next, onPage }: { cursors: string[]; next: string | null; onPage: (stack: string[]) => void }) {
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" disabled=${cursors.length === 0} onClick=${() => onPage(cursors.slice(0, -1))}>Previous page</button>
    <span class="muted">page ${cursors.length + 1}</span>
    <button type="button" disabled=${next === null} onClick=${() => next && onPage([...cursors, next])}>Next page</button>
  </nav>`;
}

export function Field({ label, children }: { label: string; children: unknown }) {
  return html`<label class="field"><span>${label}</span>${children}</label>`;
}
