/** Upcoming: every fire in the next hours across triggers, with DST shifts and calendar skips marked. */
import { useState } from 'preact/hooks';
import { enc, get, settings } from '../api.js';
import { ErrorNote, Field, useLoad } from '../components.js';
import { when } from '../format.js';
import { html } from '../html.js';
import type { Fire, UpcomingData } from '../wire.js';

export function UpcomingPage() {
  const [hours, setHours] = useState('24');
  const data = useLoad(() => get<UpcomingData>('/upcoming', { hours }), [hours]);
  // Fires grouped by UTC hour, so a busy day reads as a timeline.
  const groups = new Map<string, Fire[]>();
  for (const fire of data.data?.fires ?? []) {
    const hour = `${fire.at.slice(0, 13).replace('T', ' ')}:00 UTC`;
    groups.set(hour, [...(groups.get(hour) ?? []), fire]);
  }
  return html`
    <h1>Upcoming</h1>
    <form class="filters" aria-label="Window" onSubmit=${(e: Event) => e.preventDefault()}>
      <${Field} label="Window">
        <select name="hours" value=${hours} onChange=${(e: Event) => setHours((e.target as HTMLSelectElement).value)}>
          <option value="6">next 6 hours</option><option value="24">next 24 hours</option><option value="72">next 3 days</option><option value="168">next 7 days</option>
        </select>
      <//>
    </form>
    <${ErrorNote} error=${data.error} />
    ${data.data &&
    html`<p class="muted">${data.data.fires.filter((f) => !f.skipped).length} fires from ${when(data.data.from)} to ${when(data.data.to)}${data.data.truncated ? ' (list cut: too many fires)' : ''}.</p>
      <ol class="timeline" aria-label="Fires by hour">
        ${[...groups].map(
          ([hour, fires]) => html`<li key=${hour}>
            <h2 class="hour">${hour}</h2>
            <ul>
              ${fires.map(
                (f) => html`<li class=${f.skipped ? 'fire skipped' : 'fire'}>
                  <time datetime=${f.at}>${when(f.at).slice(11)}</time>
                  <a href=${`#/trigger/${enc(f.triggerId)}`}>${f.triggerName}</a>
                  ${settings.owner === undefined ? html`<span class="muted small">${f.owner}</span>` : ''}
                  ${f.local ? html`<span class="muted small">local ${f.local}</span>` : ''}
                  ${f.dstShift ? html`<span class="mark mark-dst">DST shift ${f.dstShift.from} → ${f.dstShift.to}</span>` : ''}
                  ${f.skipped ? html`<span class="mark mark-skip">skipped by calendar</span>` : ''}
                </li>`,
              )}
            </ul>
          </li>`,
        )}
      </ol>`}
  `;
}
