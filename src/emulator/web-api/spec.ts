/** The shape of one operation of the spec, as scripts/generate-emulator-operations.mjs writes it. */

export interface SpecParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array';
  enum?: readonly (string | number | boolean)[];
  minimum?: number;
  maximum?: number;
  default?: string | number | boolean;
  /** Required, but the JSON body may carry it instead (the legacy library writes' `ids`): the handler checks. */
  inBody?: boolean;
}

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';

export interface SpecOperation {
  operationId: string;
  method: HttpMethod;
  /** As in the spec, relative to /v1, e.g. /playlists/{playlist_id}/items. */
  path: string;
  deprecated: boolean;
  /** security.oauth_2_0: any one of them is enough (Spotify lists alternatives). */
  scopes: readonly string[];
  parameters: readonly SpecParameter[];
  requestBody: boolean;
  /** The 2xx status the spec declares first. */
  success: number;
}
