'use strict';
// When the native addon cannot be loaded on this platform, the package runs on
// polysession-wasm behind the same raw interface: sealed cookies, memory and JS stores only.
// Only conversions live here (values to JSON text, stores to the KV shape).
const raw = require('polysession-wasm/raw');
const { polysessionError } = require('./errors.js');
const { normalizeStore } = require('./stores.js');

// The Rust providers that only the native addon has.
const NATIVE = new Set(['file', 'redis', 'redis_cluster', 'redis_sentinel', 'mysql', 'postgresql', 'postgres', 'sqlite', 'memcache']);

// The normalized store (native shape) back in the KV shape the wasm binding takes.
function kvShape(store) {
  const s = normalizeStore(store);
  return {
    get: (key) => s.get(key),
    put: (key, value, { expirationTtl }) => s.put(key, value, expirationTtl),
    delete: (key) => s.delete(key),
    list: s.list
      ? async ({ prefix, cursor }) => {
          const page = await s.list(prefix, cursor ?? null);
          return { keys: Array.from({ length: page.keys }, () => ({})), list_complete: !page.cursor, cursor: page.cursor };
        }
      : undefined,
  };
}

/** The JSON-text session interface of the native binding, over a wasm session. */
class FallbackSession {
  constructor(inner) {
    this.inner = inner;
  }
  get id() {
    return this.inner.id;
  }
  get isNew() {
    return this.inner.isNew;
  }
  get(key) {
    const v = this.inner.get(key);
    return v === undefined ? null : JSON.stringify(v);
  }
  set(key, json) {
    this.inner.set(key, JSON.parse(json));
  }
  update(set, remove) {
    for (const [k, v] of Object.entries(set ? JSON.parse(set) : {})) this.inner.set(k, v);
    for (const k of remove ?? []) this.inner.delete(k);
  }
  delete(key) {
    return this.inner.delete(key);
  }
  flush() {
    this.inner.flush();
  }
  keys() {
    return this.inner.keys();
  }
  data() {
    return JSON.stringify(this.inner.toJSON());
  }
  setCookieLifetime(secs) {
    this.inner.setCookieLifetime(secs);
  }
  flash(level, message) {
    this.inner.flash(level, message);
  }
  takeFlash() {
    return JSON.stringify(this.inner.takeFlash());
  }
  regenerate() {
    return this.inner.regenerate();
  }
  destroy() {
    return this.inner.destroy();
  }
}

/** The native binding's RawManager interface over polysession-wasm's. */
class FallbackManager {
  constructor(options, why) {
    let opts = options ?? {};
    if (typeof options === 'string') {
      try {
        opts = JSON.parse(options);
      } catch {
        this.inner = new raw.RawManager(options); // the binding reports the bad JSON
        return;
      }
    }
    opts = { ...opts };
    const provider = String(opts.provider ?? (opts.store ? 'kv' : 'memory')).toLowerCase();
    if (NATIVE.has(provider)) {
      throw polysessionError('UNSUPPORTED', `the provider \`${provider}\` needs the native addon, which could not be loaded here (${why}); without it only cookie, memory and JS stores are available`);
    }
    opts.provider = provider;
    if (opts.store) opts.store = kvShape(opts.store);
    this.inner = new raw.RawManager(typeof options === 'string' ? JSON.stringify(opts) : opts);
  }
  async init() {}
  readsForm(...args) {
    return this.inner.readsForm(...args);
  }
  async start(cookie, url, sidHeader, forwardedProto, form, https) {
    // The wasm binding reads https from the URL's scheme.
    const full = https && url?.startsWith('/') ? `https://localhost${url}` : url;
    return new FallbackSession(await this.inner.start(cookie, full, sidHeader, forwardedProto, form));
  }
  commit(session, vary, cacheControl) {
    return this.inner.commit(session.inner, vary, cacheControl);
  }
  count() {
    return this.inner.count();
  }
  gc() {
    return this.inner.gc();
  }
  get provider() {
    return this.inner.provider;
  }
  get headerName() {
    return this.inner.headerName;
  }
  get cookieName() {
    return this.inner.cookieName;
  }
}

module.exports = { FallbackManager, errorResponseInit: raw.errorResponseInit };
