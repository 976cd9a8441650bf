/** Runs webhooks in a server process: the dispatcher, and the deadline scan on a timer. */
import type { TokenStore } from '../../stores/types.js';
import type { WebhookConfig } from './config.js';
import { scanDeadlines } from './deadline-scan.js';
import { WebhookDispatcher } from './dispatcher.js';

export interface WebhookLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

export interface RunningWebhooks {
  dispatcher: WebhookDispatcher;
  stop(): Promise<void>;
}

export function startWebhooks(
  store: TokenStore,
  config: WebhookConfig,
  logger: WebhookLogger,
): RunningWebhooks {
  const dispatcher = new WebhookDispatcher({
    outbox: store.outbox,
    urls: config.urls,
    key: config.key,
    pollMs: config.pollMs,
    baseDelayMs: config.retryBaseMs,
    leaseMs: config.leaseMs,
    // A request must end before its claim does, or a second instance could send it meanwhile.
    timeoutMs: Math.min(10_000, Math.floor(config.leaseMs / 2)),
    onAttempt: ({ id, type, url, ok, status, error }) =>
      (ok ? logger.info : logger.warn).call(
        logger,
        { event: 'webhook_delivery', webhook_id: id, type, url: new URL(url).origin, ok, status, error },
        ok ? 'webhook delivered' : 'webhook delivery failed; will retry',
      ),
  });
  dispatcher.start();
  const scan = () =>
    scanDeadlines({ store, days: config.expiringDays }).catch((error: unknown) =>
      logger.warn(
        { event: 'deadline_scan_failed', code: (error as { code?: string }).code },
        'deadline scan failed',
      ),
    );
  void scan();
  const timer = setInterval(scan, config.scanIntervalMs).unref();
  return {
    dispatcher,
    stop: async () => {
      clearInterval(timer);
      await dispatcher.stop();
    },
  };
}
