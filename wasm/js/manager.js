// The public API of polysession-wasm over the raw bindings: fetch Request in, Response out.
// Only conversions live here; every session rule is in the Rust core.
import { RawManager, Session, KeyRing } from '../pkg/polysession_wasm.js';

export { Session, KeyRing };

// Form bodies larger than this are not read for a session id.
const MAX_FORM_BYTES = 64 * 1024;

async function readForm(request) {
  if (request.method !== 'POST' || !request.body) return undefined;
  const type = (request.headers.get('content-type') || '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) return undefined;
  const length = Number(request.headers.get('content-length') || '0');
  if (length > MAX_FORM_BYTES) return undefined;
  try {
    const text = await request.clone().text();
    return text.length > MAX_FORM_BYTES ? undefined : text;
  } catch {
    return undefined;
  }
}

function appendVary(headers, name) {
  const vary = headers.get('vary');
  if (!vary) return headers.set('vary', name);
  const names = vary.split(',').map((v) => v.trim().toLowerCase());
  if (!names.includes('*') && !names.includes(name.toLowerCase())) {
    headers.set('vary', `${vary}, ${name}`);
  }
}

/**
 * A session manager. `options` is an object of camelCase beego keys (`cookieName`,
 * `maxLifetime`, `cookieSameSite`, ...) plus `provider` (`cookie` by default, `memory`, or
 * `kv`), `providerConfig`, `store` (a KV namespace, which selects `kv`) and `now` (a clock
 * returning Unix milliseconds), or a beego JSON config string. Errors are `PolysessionError`s
 * with a stable `code` (`BAD_CONFIG`, `UNKNOWN_PROVIDER`, `STORE_UNAVAILABLE`, ...).
 */
export class Manager {
  #raw;
  #header;
  #query;

  constructor(options) {
    this.#raw = new RawManager(options);
    // Read once: they are fixed for the manager's life.
    this.#header = this.#raw.headerName;
    this.#query = this.#raw.acceptsQuery;
  }

  /** The provider in use. */
  get provider() {
    return this.#raw.provider;
  }

  /** Starts the session of a fetch `Request`. Rejects only when the store fails. */
  async start(request) {
    const headers = request.headers;
    const header = this.#header;
    return this.#raw.start(
      headers.get('cookie') ?? undefined,
      request.url,
      header ? headers.get(header) ?? undefined : undefined,
      headers.get('x-forwarded-proto') ?? undefined,
      this.#query ? await readForm(request) : undefined,
    );
  }

  /**
   * Writes the session and returns `response` with its `Set-Cookie`, `Vary: Cookie` and, when
   * an id is sent, `Cache-Control: no-store`. The body is passed through, not read.
   */
  async commit(session, response) {
    const out = await this.#raw.commit(session);
    const add = (headers) => {
      if (out.setCookie) headers.append('set-cookie', out.setCookie);
      if (out.sidHeader) headers.set(out.sidHeader[0], out.sidHeader[1]);
      if (out.noStore) headers.set('cache-control', 'no-store');
      if (out.varyCookie) appendVary(headers, 'Cookie');
    };
    if (response.status < 200 || response.status > 599) {
      // 101 (WebSocket upgrades) cannot be rebuilt: add the headers in place.
      add(response.headers);
      return response;
    }
    const headers = new Headers(response.headers);
    add(headers);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }

  /** How many sessions the store holds (`UNSUPPORTED` for `cookie`, or kv without `list`). */
  count() {
    return this.#raw.count();
  }

  /** One GC pass; only the memory provider needs it. */
  gc() {
    return this.#raw.gc();
  }
}
