// A Map with the interface of a Cloudflare Workers KV namespace: async get/put/delete/list,
// `expirationTtl` in seconds (60 at least, as on Workers), values as text. `clock` returns
// Unix milliseconds, so tests move time without sleeping. `failing` makes every call throw.
export class MapKV {
  constructor(clock = () => Date.now()) {
    this.clock = clock;
    this.entries = new Map();
    this.failing = false;
    this.calls = { get: 0, put: 0, delete: 0, list: 0 };
  }

  #check(op) {
    this.calls[op] += 1;
    if (this.failing) throw new Error(`KV ${op}: network connection lost`);
  }

  #live(key) {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiration !== undefined && entry.expiration * 1000 <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  async get(key, type = 'text') {
    this.#check('get');
    await Promise.resolve();
    const entry = this.#live(key);
    if (!entry) return null;
    return type === 'json' ? JSON.parse(entry.value) : entry.value;
  }

  async put(key, value, options = {}) {
    this.#check('put');
    if (typeof value !== 'string') throw new TypeError('KV put: value must be a string here');
    const ttl = options.expirationTtl;
    if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 60)) {
      throw new Error(`KV put failed: 400 Invalid expiration_ttl of ${ttl}. Expiration TTL must be at least 60.`);
    }
    await Promise.resolve();
    const expiration = ttl === undefined ? undefined : Math.floor(this.clock() / 1000) + ttl;
    this.entries.set(key, { value, expiration });
  }

  async delete(key) {
    this.#check('delete');
    await Promise.resolve();
    this.entries.delete(key);
  }

  async list({ prefix = '', limit = 1000, cursor } = {}) {
    this.#check('list');
    await Promise.resolve();
    const names = [...this.entries.keys()].filter((k) => k.startsWith(prefix) && this.#live(k)).sort();
    const start = cursor ? Number(cursor) : 0;
    const page = names.slice(start, start + limit);
    const done = start + limit >= names.length;
    return {
      keys: page.map((name) => ({ name, expiration: this.entries.get(name).expiration })),
      list_complete: done,
      ...(done ? {} : { cursor: String(start + limit) }),
    };
  }
}

// A MapKV whose reads lag: for `lagMs` after a put or delete, `get` shows the value before it,
// as Workers KV may in another location.
export class StaleKV extends MapKV {
  constructor(clock, lagMs) {
    super(clock);
    this.lagMs = lagMs;
    this.before = new Map(); // key -> { value, until }
  }

  #remember(key) {
    const old = this.entries.get(key);
    this.before.set(key, { value: old?.value ?? null, until: this.clock() + this.lagMs });
  }

  async get(key, type) {
    const lag = this.before.get(key);
    if (lag && this.clock() < lag.until) {
      this.calls.get += 1;
      return lag.value;
    }
    return super.get(key, type);
  }

  async put(key, value, options) {
    this.#remember(key);
    return super.put(key, value, options);
  }

  async delete(key) {
    this.#remember(key);
    return super.delete(key);
  }
}
