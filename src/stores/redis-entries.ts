import type { Redis } from 'ioredis';
import { checkEntry, checkEntryArgs, type EntryCodec, entryCorrupt } from './entries.js';
import type { EntryStore, StoredEntry } from './types.js';

/**
 * KEYS[1] entry, KEYS[2] tag set; ARGV[1] JSON, ARGV[2] ttl ms ('' = none), ARGV[3] id ('' = no tag),
 * ARGV[4] the namespace's entry key prefix. Redis expires the entry itself; the tag set lives as long as its
 * longest-lived member. Ids of entries that are gone (deleted one by one, or expired by Redis) would stay in
 * the set for as long as the tag keeps getting new members — a user's every login, for ever — so past
 * TAG_PRUNE_AT members the set drops those.
 */
const TAG_PRUNE_AT = 16;
const PUT_SCRIPT = `
if ARGV[2] == '' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
if ARGV[3] ~= '' then
  redis.call('SADD', KEYS[2], ARGV[3])
  if ARGV[2] == '' then redis.call('PERSIST', KEYS[2])
  elseif redis.call('PTTL', KEYS[2]) >= 0 then redis.call('PEXPIRE', KEYS[2], ARGV[2], 'GT')
  else redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
  if redis.call('SCARD', KEYS[2]) > ${TAG_PRUNE_AT} then
    for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
      if redis.call('EXISTS', ARGV[4] .. id) == 0 then redis.call('SREM', KEYS[2], id) end
    end
  end
end
return 1`;

/** KEYS[1] tag set; ARGV[1] entry key prefix, ARGV[2] tag. Only entries still carrying the tag are deleted. */
const DELETE_BY_TAG_SCRIPT = `
local count = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  local raw = redis.call('GET', key)
  if raw and cjson.decode(raw).t == ARGV[2] then
    redis.call('DEL', key)
    count = count + 1
  end
end
redis.call('DEL', KEYS[1])
return count`;

interface Wire {
  v: string;
  t?: string;
  e?: number;
}

/** Entries as `<prefix>ent:<ns>:<id>` strings with native expiry; tags as `<prefix>tag:<ns>:<tag>` sets. */
export class RedisEntries implements EntryStore {
  constructor(
    readonly prefix: string,
    readonly codec: EntryCodec,
    readonly call: <T>(fn: (redis: Redis) => Promise<T>) => Promise<T>,
  ) {}

  async put(namespace: string, entry: StoredEntry): Promise<void> {
    checkEntry(namespace, entry);
    const ttl = entry.expiresAt === undefined ? '' : String(Math.ceil(entry.expiresAt - Date.now()));
    if (ttl !== '' && Number(ttl) <= 0) {
      await this.delete(namespace, entry.id);
      return;
    }
    const wire: Wire = { v: this.codec.seal(namespace, entry.id, entry.value) };
    if (entry.tag !== undefined) wire.t = entry.tag;
    if (entry.expiresAt !== undefined) wire.e = entry.expiresAt;
    await this.call((r) =>
      r.eval(
        PUT_SCRIPT,
        2,
        this.#key(namespace, entry.id),
        this.#tagKey(namespace, entry.tag ?? ''),
        JSON.stringify(wire),
        ttl,
        entry.tag === undefined ? '' : entry.id,
        this.#key(namespace, ''),
      ),
    );
  }

  async get(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    const raw = await this.call((r) => r.get(this.#key(namespace, id)));
    return raw === null ? null : this.#open(namespace, id, raw);
  }

  async take(namespace: string, id: string): Promise<StoredEntry | null> {
    checkEntryArgs(namespace, id);
    // GETDEL is atomic: of concurrent takers on any instance, one receives the value.
    const raw = await this.call((r) => r.getdel(this.#key(namespace, id)));
    return raw === null ? null : this.#open(namespace, id, raw);
  }

  async delete(namespace: string, id: string): Promise<boolean> {
    checkEntryArgs(namespace, id);
    return (await this.call((r) => r.del(this.#key(namespace, id)))) > 0;
  }

  async deleteByTag(namespace: string, tag: string): Promise<number> {
    return Number(
      await this.call((r) =>
        r.eval(DELETE_BY_TAG_SCRIPT, 1, this.#tagKey(namespace, tag), this.#key(namespace, ''), tag),
      ),
    );
  }

  async list(namespace: string): Promise<StoredEntry[]> {
    const base = this.#key(namespace, '');
    const pattern = `${base.replace(/[*?[\]\\]/g, '\\$&')}*`;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.call((r) => r.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const unique = [...new Set(keys)].sort();
    if (unique.length === 0) return [];
    const values = await this.call((r) => r.mget(unique));
    return unique.flatMap((key, i) => {
      const raw = values[i];
      const entry = raw == null ? null : this.#open(namespace, key.slice(base.length), raw);
      return entry ? [entry] : [];
    });
  }

  async purgeExpired(): Promise<number> {
    return 0;
  }

  #open(namespace: string, id: string, raw: string): StoredEntry | null {
    let wire: Wire;
    try {
      wire = JSON.parse(raw) as Wire;
    } catch {
      throw entryCorrupt('Redis', namespace);
    }
    if (typeof wire.v !== 'string') throw entryCorrupt('Redis', namespace);
    if (wire.e !== undefined && wire.e <= Date.now()) return null;
    return {
      id,
      value: this.codec.open(namespace, id, wire.v),
      ...(wire.t !== undefined ? { tag: wire.t } : {}),
      ...(wire.e !== undefined ? { expiresAt: wire.e } : {}),
    };
  }

  #key(namespace: string, id: string): string {
    return `${this.prefix}ent:${namespace}:${id}`;
  }

  #tagKey(namespace: string, tag: string): string {
    return `${this.prefix}tag:${namespace}:${tag}`;
  }
}
