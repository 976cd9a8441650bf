import type { ServerResponse } from 'node:http';
import { escapeHtml, send } from './http.js';
import { randomToken } from './random.js';

const BASE_STYLE = `
  body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#121212;color:#fff;margin:0;padding:2rem 1rem}
  main{max-width:32rem;margin:0 auto;background:#181818;border-radius:8px;padding:2rem}
  h1{font-size:1.5rem;margin:0 0 1rem} a{color:#1ed760} code{background:#2a2a2a;padding:0 .25rem;border-radius:3px}
  .note{color:#b3b3b3;font-size:.875rem} ul{padding-left:1.25rem} fieldset{border:1px solid #333;border-radius:6px;margin:1rem 0}
  label{display:block;padding:.25rem 0;cursor:pointer} .actions{display:flex;gap:1rem;margin-top:1.5rem}
  button{font:inherit;font-weight:700;border-radius:500px;padding:.75rem 2rem;cursor:pointer;border:1px solid #727272}
  button.agree{background:#1ed760;color:#000;border-color:#1ed760} button.cancel{background:transparent;color:#fff}
  button:focus-visible,input:focus-visible{outline:3px solid #fff;outline-offset:2px}
  .error{border-left:4px solid #e91429;padding-left:1rem}
`;

export interface PageOptions {
  status?: number;
  /** Extra CSP sources for form-action (the consent form's POST ends in a redirect to the app). */
  formAction?: string[];
  headers?: Record<string, string | string[]>;
}

/** Self-contained HTML (inline CSS via a nonce, no external assets) behind a strict CSP. */
export function sendPage(
  res: ServerResponse,
  title: string,
  bodyHtml: string,
  options: PageOptions = {},
): void {
  const nonce = randomToken('', 16);
  const formAction = ["'self'", ...(options.formAction ?? [])].join(' ');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${BASE_STYLE}</style>
</head>
<body>
<main>
${bodyHtml}
</main>
</body>
</html>
`;
  send(res, options.status ?? 200, html, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'none'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    ...options.headers,
  });
}

/** Spotify's /authorize error page: a message and no redirect (FACTS §3.2). */
export function sendErrorPage(res: ServerResponse, status: number, message: string): void {
  sendPage(
    res,
    'Error - Spotify Accounts (emulator)',
    `<h1>Something went wrong</h1>\n<p class="error">${escapeHtml(message)}</p>\n<p class="note">spotauth Spotify emulator</p>`,
    { status },
  );
}
