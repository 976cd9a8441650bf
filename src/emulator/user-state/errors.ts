/**
 * A request the state model refuses. `code` says why; the HTTP handlers turn it into Spotify's status and
 * body (the model itself knows nothing about HTTP).
 */
export class StateRefusal extends Error {
  override name = 'StateRefusal';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
