import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../src/broker/webhooks/signing.js';

export interface Delivery {
  id: string;
  type: string;
  body: string;
  verified: boolean;
  answered: number | 'hung';
}

/**
 * A real webhook receiver on 127.0.0.1: verifies every signature the way the README tells receivers to,
 * records each delivery, and answers with `status` (503 = "down"), or hangs when `hang` is set.
 */
export async function startReceiver(secret: string) {
  const deliveries: Delivery[] = [];
  const hung: ServerResponse[] = [];
  const state = { status: 200, hang: false };
  const listeners = new Set<() => void>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const verified = verifyWebhook(secret, req.headers as Record<string, string>, body);
      const id = String(req.headers['webhook-id'] ?? '');
      const type = (JSON.parse(body) as { type: string }).type;
      deliveries.push({ id, type, body, verified, answered: state.hang ? 'hung' : state.status });
      for (const listener of listeners) listener();
      if (state.hang) {
        hung.push(res);
        return;
      }
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    deliveries,
    state,
    /** Deliveries answered 2xx, by webhook id. */
    acceptedIds: () =>
      deliveries.filter((d) => typeof d.answered === 'number' && d.answered < 300).map((d) => d.id),
    waitFor: (predicate: () => boolean, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        if (predicate()) return resolve();
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `receiver: condition not met; got ${JSON.stringify(deliveries.map((d) => [d.type, d.answered]))}`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
      }),
    close: async () => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
