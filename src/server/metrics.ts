import { Counter, Histogram, Registry } from 'prom-client';
import type { TokenManager } from '../tokens/token-manager.js';

/** Prometheus metrics of one server instance (its own registry, so tests can run several apps). */
export class ServerMetrics {
  /** The registry `/metrics` serves. */
  readonly registry = new Registry();
  /** `spotauth_logins_total{outcome}`: callbacks, by `LoginOutcome`. */
  readonly logins = new Counter({
    name: 'spotauth_logins_total',
    help: 'Completed and failed logins, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /** `spotauth_refreshes_total{outcome}`: `success`, `transient_failure`, `reauth_required`. */
  readonly refreshes = new Counter({
    name: 'spotauth_refreshes_total',
    help: 'Token refreshes, by outcome (success, transient_failure, reauth_required)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /** `spotauth_reauth_required_total{reason}`: grants that died, by reason. */
  readonly reauthRequired = new Counter({
    name: 'spotauth_reauth_required_total',
    help: 'Grants marked as needing a new login, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** `spotauth_token_endpoint_duration_seconds{status}`: token-endpoint latency, seconds. */
  readonly tokenEndpointLatency = new Histogram({
    name: 'spotauth_token_endpoint_duration_seconds',
    help: "Latency of requests to Spotify's token endpoint",
    labelNames: ['status'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  /** Counts a token manager's refreshes and dead grants from its events. */
  observe(manager: TokenManager): void {
    manager.on('refreshed', () => this.refreshes.inc({ outcome: 'success' }));
    manager.on('refresh_failed', () => this.refreshes.inc({ outcome: 'transient_failure' }));
    manager.on('reauth_required', ({ reason }) => {
      this.refreshes.inc({ outcome: 'reauth_required' });
      this.reauthRequired.inc({ reason });
    });
  }

  /** A fetch that times every call to the token endpoint. */
  timedFetch(tokenEndpoint: string, inner: typeof fetch = fetch): typeof fetch {
    return async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!url.startsWith(tokenEndpoint)) return inner(input, init);
      const end = this.tokenEndpointLatency.startTimer();
      try {
        const response = await inner(input, init);
        end({ status: String(response.status) });
        return response;
      } catch (error) {
        end({ status: 'network_error' });
        throw error;
      }
    };
  }
}
