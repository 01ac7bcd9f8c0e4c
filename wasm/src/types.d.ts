// TypeScript types of the raw bindings' option and result objects, appended by wasm-bindgen
// to pkg/polysession_wasm.d.ts (typescript_custom_section in lib.rs).
/** A store shaped like a Cloudflare Workers KV namespace; methods may return promises. */
export interface KVNamespaceLike {
  get(key: string): Promise<string | null> | string | null;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<unknown> | unknown;
  delete(key: string): Promise<unknown> | unknown;
  /** Optional: lets `count()` work. */
  list?(options: { prefix: string; cursor?: string }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>;
}

/** The camelCase beego keys (any case is accepted), plus the host-only `store` and `now`. */
export interface ManagerOptions {
  /** `cookie` (default), `memory`, or `kv` (implied by `store`). */
  provider?: "cookie" | "memory" | "kv" | string;
  /** cookie: `{ keys: [newest, ...older] }` (32+ byte secrets); kv: `{ prefix }`; memory: `{ capacity }`. */
  providerConfig?: string | Record<string, unknown>;
  store?: KVNamespaceLike;
  /** A clock in Unix milliseconds (default `Date.now`). */
  now?: () => number;
  cookieName?: string;
  enableSetCookie?: boolean;
  gclifetime?: number;
  maxLifetime?: number;
  absoluteLifetime?: number;
  touchInterval?: number;
  cookieLifeTime?: number;
  secure?: boolean;
  trustForwardedProto?: boolean;
  disableHTTPOnly?: boolean;
  domain?: string;
  cookiePath?: string;
  cookieSameSite?: "Lax" | "Strict" | "None" | "Default" | number;
  sessionIDLength?: number;
  /** Largest stored session in bytes (default 1 MiB, 0: no limit); more is `TOO_LARGE`. */
  maxSessionBytes?: number;
  /** Most keys in one session (default 1000, 0: no limit); more is `TOO_LARGE`. */
  maxSessionKeys?: number;
  sessionIDPrefix?: string;
  sessionIDHashFunc?: "sha1" | "";
  sessionIDHashKey?: string;
  EnableSidInHTTPHeader?: boolean;
  SessionNameInHTTPHeader?: string;
  EnableSidInURLQuery?: boolean;
}

/** What `commit` sets on the response, merged with the response's own `Vary` and `Cache-Control`. */
export interface CommitHeaders {
  setCookie?: string;
  sidHeader?: [string, string];
  vary?: string;
  cacheControl?: string;
  outcome: "unchanged" | "written" | "touched" | "gone" | "destroyed";
}

/** The response for a session error, as data. */
export interface ErrorResponseInit {
  status: number;
  headers: [string, string][];
  body: string;
}
