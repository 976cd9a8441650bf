import { json, readJson } from './control.js';
import { InvalidInput } from './errors.js';
import { budgetJson, parseQuotaBudget } from './quotas.js';
import type { Route, RouteContext } from './routes.js';

/**
 * The control API of the /v1 rate limits (quotas.ts): read budgets and usage, set the default budget or
 * an app's own, forget the requests counted so far. Registering an app with `quota` sets its own too.
 */

const APP_QUOTA_PATH = /^\/_emulator\/quotas\/apps\/([A-Za-z0-9_.-]{1,128})$/;

function quotasJson(ctx: RouteContext) {
  const quotas = ctx.state.quotas;
  const ids = new Set([...ctx.state.apps.keys(), ...quotas.clientIds()]);
  return {
    default: budgetJson(quotas.default),
    apps: Object.fromEntries([...ids].map((id) => [id, quotas.report(id)])),
  };
}

function knownApp(ctx: RouteContext): string {
  const clientId = ctx.params[0] ?? '';
  if (!ctx.state.apps.has(clientId)) throw new InvalidInput('No app is registered with that client id', 404);
  return clientId;
}

export const quotaRoutes: Route[] = [
  { method: 'GET', path: '/_emulator/quotas', handler: json(quotasJson) },
  {
    method: 'PUT',
    path: '/_emulator/quotas/default',
    handler: json(async (ctx) => {
      ctx.state.quotas.setDefault(parseQuotaBudget(await readJson(ctx)));
      return quotasJson(ctx);
    }),
  },
  {
    method: 'GET',
    path: APP_QUOTA_PATH,
    handler: json((ctx) => ctx.state.quotas.report(knownApp(ctx))),
  },
  {
    method: 'PUT',
    path: APP_QUOTA_PATH,
    handler: json(async (ctx) => {
      const clientId = knownApp(ctx);
      ctx.state.quotas.setApp(clientId, parseQuotaBudget(await readJson(ctx)));
      return ctx.state.quotas.report(clientId);
    }),
  },
  {
    method: 'DELETE',
    path: APP_QUOTA_PATH,
    handler: json((ctx) => {
      const clientId = knownApp(ctx);
      ctx.state.quotas.setApp(clientId, null);
      return ctx.state.quotas.report(clientId);
    }),
  },
  {
    method: 'POST',
    path: '/_emulator/quotas/reset',
    handler: json((ctx) => {
      ctx.state.quotas.resetUsage();
      return quotasJson(ctx);
    }),
  },
];
