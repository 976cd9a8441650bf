import { ApiError, type Handler } from './endpoint.js';

/**
 * A handler for an operation whose behaviour is not written yet: routed, authenticated and scope-checked
 * like the rest, then 501. Replaced operation by operation; the spec walk lists any that remain.
 */
export function notYet(operationId: string): Handler {
  return () => {
    throw new ApiError(501, `The emulator does not serve ${operationId} yet`);
  };
}
