/**
 * `spotauth webhooks list|retry|secret`: the delivery log of the webhook outbox, a manual retry, and a new
 * signing secret, on the server's store (see server-store.ts).
 */
import { CliError, EXIT } from '../exit-codes.js';
import { printable } from '../output.js';
import { openServerStore } from '../server-store.js';

export async function runWebhooksList(options: {
  store?: string;
  json?: boolean;
  pending?: boolean;
  limit?: string;
}): Promise<void> {
  const limit = Number(options.limit ?? '50');
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new CliError('--limit must be a whole number between 1 and 1000.', EXIT.USAGE);
  const store = await openServerStore(options);
  try {
    const events = await store.outbox.list({ limit, pendingOnly: options.pending === true });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(events.map(({ payload: _payload, ...rest }) => rest))}\n`);
      return;
    }
    if (events.length === 0) {
      process.stdout.write('No webhook events recorded.\n');
      return;
    }
    for (const event of events) {
      const state =
        event.nextAttemptAt === null
          ? event.deliveries.every((d) => d.status === 'delivered')
            ? 'delivered'
            : 'failed'
          : `pending (next attempt ${new Date(event.nextAttemptAt).toISOString()})`;
      process.stdout.write(
        `${event.id}  ${event.type}  ${new Date(event.createdAt).toISOString()}  ${state}\n`,
      );
      for (const delivery of event.deliveries) {
        process.stdout.write(
          `    ${printable(delivery.url)}: ${delivery.status}, ${delivery.attempts} attempt(s)${delivery.lastError ? `, last: ${printable(delivery.lastError)}` : ''}\n`,
        );
      }
    }
  } finally {
    await store.close();
  }
}

export async function runWebhooksRetry(id: string, options: { store?: string }): Promise<void> {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id))
    throw new CliError('That is not an event id (see `spotauth webhooks list`).', EXIT.USAGE);
  const store = await openServerStore(options);
  try {
    if (!(await store.outbox.retry(id))) throw new CliError(`No webhook event ${id}.`);
    process.stdout.write(`Event ${id} will be delivered again by the next running server.\n`);
  } finally {
    await store.close();
  }
}

export async function runWebhooksSecret(): Promise<void> {
  const { generateWebhookSecret } = await import('../../broker/webhooks/signing.js');
  process.stdout.write(`${generateWebhookSecret()}\n`);
  process.stderr.write(
    'Set it as SPOTAUTH_WEBHOOK_SECRET on every instance, and give it to each receiver to verify signatures.\n',
  );
}
