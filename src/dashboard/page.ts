/** The one HTML page: no inline script or style, settings passed in data attributes. */
import type { Asset } from './assets.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export interface PageSettings {
  base: string;
  title: string;
  csrf: string;
  actor: string;
  owner: string | undefined;
  canAct: boolean;
  readOnly: boolean;
}

export function renderPage(settings: PageSettings, assets: Map<string, Asset>): string {
  const js = assets.get('app.js')!;
  const css = assets.get('app.css')!;
  const base = escapeHtml(settings.base);
  const data = escapeHtml(JSON.stringify(settings));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(settings.title)} dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}/assets/app.css?v=${css.hash}">
<script type="module" src="${base}/assets/app.js?v=${js.hash}"></script>
</head>
<body>
<div id="app" data-settings="${data}"><noscript>The dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
}
