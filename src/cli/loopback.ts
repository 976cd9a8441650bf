import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError } from './exit-codes.js';

/**
 * The one-shot loopback listener of `spotauth login` (RFC 8252 §7.3, SECURITY §8): bound to 127.0.0.1,
 * an OS-assigned port by default, answering only `GET <path>` with the right Host; everything else is
 * refused without ending the wait. `handle` decides whether a callback is final; the port closes after it.
 */
export interface LoopbackListener {
  port: number;
  /** Resolves with the callback URL the first time `accept` returns true; rejects on timeout or abort. */
  callback: Promise<URL>;
  /** Hands over a callback URL obtained another way (pasted by the user); checked like a real one. */
  deliver(url: URL): { final: boolean; message: string };
  close(): Promise<void>;
}

export interface LoopbackOptions {
  port: number;
  path: string;
  timeoutMs: number;
  /** Inspect a callback. Return the page to show and whether the login is over (success or a final error). */
  accept(url: URL): { final: boolean; status: number; title: string; message: string };
}

export async function startLoopback(options: LoopbackOptions): Promise<LoopbackListener> {
  let resolveCallback!: (url: URL) => void;
  let rejectCallback!: (error: Error) => void;
  const callback = new Promise<URL>((resolve, reject) => {
    resolveCallback = resolve;
    rejectCallback = reject;
  });
  callback.catch(() => {});
  let done = false;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const port = (server.address() as AddressInfo).port;
    if (req.headers.host !== `127.0.0.1:${port}`)
      return page(res, 400, 'Wrong address', 'This page only answers on 127.0.0.1.');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== options.path) return page(res, 404, 'Not found', 'Nothing here.');
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return page(res, 405, 'Method not allowed', 'Only GET is accepted here.');
    }
    const outcome = handle(url);
    page(res, outcome.status, outcome.title, outcome.message);
  });
  const handle = (url: URL) => {
    if (done)
      return {
        final: false,
        status: 410,
        title: 'Already done',
        message: 'This login is already finished; you can close this tab.',
      };
    const outcome = options.accept(url);
    if (outcome.final) {
      done = true;
      resolveCallback(url);
    }
    return outcome;
  };
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.maxHeadersCount = 50;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new CliError(
              `Port ${options.port} on 127.0.0.1 is already in use; pick another with --port, or omit it to let the system choose.`,
            )
          : new CliError(`Cannot listen on 127.0.0.1:${options.port}: ${error.message}`),
      );
    });
    server.listen(options.port, '127.0.0.1', () => resolve());
  });

  const timer = setTimeout(() => {
    rejectCallback(
      new CliError(
        `No answer from the browser within ${Math.round(options.timeoutMs / 1000)} s; the login was abandoned. Run \`spotauth login\` again.`,
      ),
    );
  }, options.timeoutMs);
  timer.unref();

  const close = async () => {
    clearTimeout(timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port: (server.address() as AddressInfo).port, callback, close, deliver: handle };
}

function page(res: ServerResponse, status: number, title: string, message: string): void {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>spotauth — ${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;background:#121212;color:#f5f5f5;display:grid;place-items:center;min-height:90vh;margin:0}
main{max-width:32rem;padding:2rem;border-radius:12px;background:#1e1e1e}h1{font-size:1.4rem;margin:0 0 .5rem}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
