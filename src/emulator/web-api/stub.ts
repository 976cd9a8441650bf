import { type ApiContext, ApiError, pageParams, paging } from './endpoint.js';

/**
 * Placeholder answers for operations whose state is not modelled yet (library, playlist edits, player
 * commands): each is inside the operation's schema, holds nothing and changes nothing.
 */

export function emptyPage(ctx: ApiContext) {
  const { limit, offset } = pageParams(ctx);
  return paging(ctx, [], (x) => x, limit, offset);
}

const URI =
  /^spotify:(track|album|artist|show|episode|audiobook|chapter|user|playlist):([A-Za-z0-9_.-]{1,64})$/;

/** The `uris` query parameter of /me/library and its checks (WEB-API-2026.md §1: required, max 40). */
export function libraryUris(ctx: ApiContext): string[] {
  const uris = ctx.query.list('uris');
  if (uris.length > 40) throw new ApiError(400, 'Too many ids requested');
  for (const uri of uris) if (!URI.test(uri)) throw new ApiError(400, `Unsupported URI: ${uri.slice(0, 80)}`);
  return [...uris];
}

/** `ids` of a legacy library call: query or JSON body (`{"ids": [...]}`), max 50. */
export function legacyIds(ctx: ApiContext): string[] {
  const fromBody = (ctx.body as { ids?: unknown } | undefined)?.ids;
  const ids = ctx.query.has('ids')
    ? [...ctx.query.list('ids')]
    : Array.isArray(fromBody)
      ? fromBody.map(String)
      : [];
  if (ids.length > 50) throw new ApiError(400, 'Too many ids requested');
  for (const id of ids) if (!/^[0-9A-Za-z]{22}$/.test(id)) throw new ApiError(400, 'invalid id');
  return ids;
}
