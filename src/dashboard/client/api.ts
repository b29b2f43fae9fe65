/** Talks to the dashboard's JSON endpoints and its live stream. */
import type { LiveEvent } from './wire.js';

export interface Settings {
  base: string;
  title: string;
  csrf: string;
  actor: string;
  owner?: string;
  canAct: boolean;
  readOnly: boolean;
}

export const settings: Settings = JSON.parse(document.getElementById('app')!.dataset.settings ?? '{}');

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function answer<T>(response: Response): Promise<T> {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body?.error?.code ?? 'HTTP', body?.error?.message ?? `HTTP ${response.status}`);
  return body as T;
}

/** GET `path` (under the dashboard's /api) with the given query; empty values are left out. */
export async function get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const qs = params.toString();
  return answer<T>(await fetch(`${settings.base}/api${path}${qs ? `?${qs}` : ''}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
}

/** POST an action with the page's CSRF token. */
export async function act<T>(path: string, body: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${settings.base}/api${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': settings.csrf },
    body: JSON.stringify(body),
  });
  return answer<T>(response);
}

export const enc = encodeURIComponent;

type LiveListener = (event: LiveEvent) => void;
const listeners = new Set<LiveListener>();
let source: EventSource | null = null;
export const liveState = { connected: false, onChange: (_connected: boolean) => {} };

/** Subscribes to live events; the stream opens with the first listener. */
export function onLive(listener: LiveListener): () => void {
  listeners.add(listener);
  if (!source) {
    source = new EventSource(`${settings.base}/api/events`);
    const dispatch = (event: MessageEvent<string>) => {
      const data = JSON.parse(event.data) as LiveEvent;
      for (const l of listeners) l(data);
    };
    source.addEventListener('run', dispatch);
    source.addEventListener('trigger', dispatch);
    source.onopen = () => liveState.onChange((liveState.connected = true));
    source.onerror = () => liveState.onChange((liveState.connected = false));
  }
  return () => listeners.delete(listener);
}
