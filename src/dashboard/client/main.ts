/** The dashboard's single page: a hash router over five pages, and the live connection state. */
import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { liveState, onLive, settings } from './api.js';
import { html } from './html.js';
import { HealthPage } from './pages/health.js';
import { RunsPage } from './pages/runs.js';
import { TriggerPage } from './pages/trigger.js';
import { TriggersPage } from './pages/triggers.js';
import { UpcomingPage } from './pages/upcoming.js';

function parseRoute(hash: string): { page: string; id?: string; query: URLSearchParams } {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? 'triggers', id: parts[1], query: new URLSearchParams(search) };
}

const PAGES = [
  ['triggers', 'Triggers'],
  ['upcoming', 'Upcoming'],
  ['runs', 'Runs'],
  ...(settings.owner === undefined ? [['health', 'Health']] : []),
] as const;

function App() {
  const [route, setRoute] = useState(parseRoute(location.hash));
  const [live, setLive] = useState(liveState.connected);
  const heading = useRef<HTMLElement>(null);
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', changed);
    liveState.onChange = setLive;
    const off = onLive(() => {});
    return () => (removeEventListener('hashchange', changed), off());
  }, []);
  useLayoutEffect(() => {
    // Moves focus to the new page's main region, so keyboard and screen-reader users land on it.
    // A layout effect: in the same task as the new page's render, so there is no moment where the
    // page shows and focus is still on the old link.
    heading.current?.focus();
  }, [route.page, route.id]);

  const page =
    route.page === 'trigger' && route.id ? html`<${TriggerPage} id=${route.id} />`
    : route.page === 'upcoming' ? html`<${UpcomingPage} />`
    : route.page === 'runs' ? html`<${RunsPage} />`
    : route.page === 'health' && settings.owner === undefined ? html`<${HealthPage} />`
    : html`<${TriggersPage} />`;
  const current = route.page === 'trigger' ? 'triggers' : route.page;
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => (e.preventDefault(), heading.current?.focus())}>Skip to content</a>
    <header class="top">
      <strong class="brand">${settings.title}</strong>
      <nav aria-label="Dashboard">
        <ul>${PAGES.map(([key, label]) => html`<li key=${key}><a href=${`#/${key}`} aria-current=${current === key ? 'page' : undefined}>${label}</a></li>`)}</ul>
      </nav>
      <span class="who">
        ${settings.owner === undefined ? 'admin view' : `owner ${settings.owner}`} · ${settings.actor}${settings.readOnly ? ' · read-only' : !settings.canAct ? ' · look only' : ''} ·${' '}
        <span class=${live ? 'live on' : 'live'} role="status">${live ? 'live' : 'offline'}</span>
      </span>
    </header>
    <main id="main" ref=${heading} tabIndex="-1">${page}</main>
  `;
}

render(html`<${App} />`, document.getElementById('app')!);
