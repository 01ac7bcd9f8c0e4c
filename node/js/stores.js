'use strict';
// Every store a user can give, turned into the one shape the native binding bridges:
// async get(key) -> text | null, put(key, text, ttlSeconds), delete(key), and optionally
// list(prefix, cursor) -> { keys: count, cursor: next page or undefined }.
//
// - a KV-shaped store (polysession-wasm's `store`, a Workers KV namespace):
//   get(key), put(key, value, { expirationTtl }), delete(key), list?({ prefix, cursor });
// - an express-session `Store` (connect-redis, connect-pg-simple, memorystore, ...):
//   get(sid, cb), set(sid, sess, cb), destroy(sid, cb), length?(cb). The record text travels
//   as `sess.ps`, beside a `sess.cookie` with `expires` and `maxAge`, which such stores read
//   for their own expiry.
const { polysessionError } = require('./errors.js');

function callback(store, method, ...args) {
  return new Promise((resolve, reject) => {
    store[method](...args, (err, value) => (err ? reject(err) : resolve(value)));
  });
}

function fromKv(store) {
  return {
    get: async (key) => {
      const value = await store.get(key);
      return typeof value === 'string' ? value : null;
    },
    put: async (key, value, ttl) => {
      await store.put(key, value, { expirationTtl: ttl });
    },
    delete: async (key) => {
      await store.delete(key);
    },
    list:
      typeof store.list === 'function'
        ? async (prefix, cursor) => {
            const page = await store.list(cursor ? { prefix, cursor } : { prefix });
            if (!Array.isArray(page?.keys)) throw new Error('list() returned no `keys` array');
            const more = page.list_complete === false && typeof page.cursor === 'string';
            return { keys: page.keys.length, cursor: more ? page.cursor : undefined };
          }
        : undefined,
  };
}

function fromExpressStore(store) {
  return {
    get: async (key) => {
      const sess = await callback(store, 'get', key);
      return typeof sess?.ps === 'string' ? sess.ps : null;
    },
    put: async (key, value, ttl) => {
      const maxAge = ttl * 1000;
      const cookie = { originalMaxAge: maxAge, maxAge, expires: new Date(Date.now() + maxAge).toISOString() };
      await callback(store, 'set', key, { cookie, ps: value });
    },
    delete: async (key) => {
      await callback(store, 'destroy', key);
    },
    list:
      typeof store.length === 'function'
        ? async () => ({ keys: Number(await callback(store, 'length')) || 0 })
        : undefined,
  };
}

/** The normalized form of `store`, or a BAD_CONFIG error. */
function normalizeStore(store) {
  const has = (name) => typeof store?.[name] === 'function';
  if (has('get') && has('put') && has('delete')) return fromKv(store);
  if (has('get') && has('set') && has('destroy')) return fromExpressStore(store);
  throw polysessionError(
    'BAD_CONFIG',
    'config key `store`: must be a KV-shaped store (get, put, delete) or an express-session Store (get, set, destroy)',
  );
}

module.exports = { normalizeStore };
