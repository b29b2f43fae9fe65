/** Health: the scheduler's health report and metrics snapshot at a glance (admin view). */
import { get } from '../api.js';
import { ErrorNote, useLoad } from '../components.js';
import { duration } from '../format.js';
import { html } from '../html.js';
import type { HealthData } from '../wire.js';

/** The bucket bound under which `q` of the observations fall (a histogram quantile). */
function quantile(h: { buckets: readonly number[]; counts: number[]; count: number }, q: number): string {
  if (h.count === 0) return '—';
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]!;
    if (seen >= q * h.count) return i < h.buckets.length ? `≤ ${duration(h.buckets[i]!)}` : `> ${duration(h.buckets[h.buckets.length - 1]!)}`;
  }
  return '—';
}

export function HealthPage() {
  const data = useLoad(() => get<HealthData>('/health'), []);
  const d = data.data;
  return html`
    <h1>Health</h1>
    <${ErrorNote} error=${data.error} />
    <button type="button" onClick=${data.reload}>Refresh</button>
    ${d &&
    html`<div class="cards">
        <section class="card" aria-labelledby="h-status"><h2 id="h-status">Status</h2><p class=${`big status-${d.health.status}`}>${d.health.status}</p>
          <p>instance ${d.health.instanceId}</p><p>store ${d.health.store.kind}: ${d.health.store.reachable ? `reachable, ${d.health.store.latencyMs ?? '—'} ms` : 'unreachable'}</p>
          ${d.health.store.error ? html`<p class="error">${d.health.store.error.name}: ${d.health.store.error.message}</p>` : ''}
          <p>wake-ups: ${d.health.wakeups}</p></section>
        <section class="card" aria-labelledby="h-queue"><h2 id="h-queue">Work</h2>
          <p><span class="big">${d.waiting.count}${d.waiting.capped ? '+' : ''}</span> runs waiting</p>
          <p>${d.health.running} running here · ${d.health.queueDepth} triggers due soon</p></section>
        <section class="card" aria-labelledby="h-late"><h2 id="h-late">Lateness</h2>
          <p>last start ${duration(d.health.dispatchLagMs)} late</p>
          <p>median ${quantile(d.metrics.dispatchLagMs, 0.5)} · p99 ${quantile(d.metrics.dispatchLagMs, 0.99)}</p>
          <p>run duration median ${quantile(d.metrics.runDurationMs, 0.5)}</p></section>
        <section class="card" aria-labelledby="h-fail"><h2 id="h-fail">Failures, last 24 h</h2>
          ${Object.keys(d.failuresByType).length === 0 ? html`<p class="muted">none</p>` : html`<ul>${Object.entries(d.failuresByType).map(([type, n]) => html`<li key=${type}>${type}: ${n}</li>`)}</ul>`}
          ${d.failuresSampled ? html`<p class="muted small">counted over the latest 100 failures</p>` : ''}</section>
      </div>
      <h2>Counters (this instance)</h2>
      <table class="grid narrow"><caption class="sr-only">Counters</caption><thead><tr><th scope="col">Counter</th><th scope="col">Value</th></tr></thead>
        <tbody>${Object.entries(d.metrics.counters).map(([name, value]) => html`<tr key=${name}><td>${name}</td><td>${value}</td></tr>`)}</tbody></table>`}
  `;
}
