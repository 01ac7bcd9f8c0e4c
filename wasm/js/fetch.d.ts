// Types of the shared fetch helper factory (js/fetch.js), for bindings that build on it.
export interface FetchBinding<Raw, S> {
  create(options: unknown): Raw;
  errorResponseInit(code: string | undefined): { status: number; headers: [string, string][] | string[][]; body: string };
  codeOf(err: unknown): string | undefined;
  toSession?(raw: unknown): S;
  toRaw?(session: S): unknown;
  call?<T>(fn: () => T): T;
}

export interface FetchManager<S> {
  readonly provider: string;
  start(request: Request): Promise<S>;
  commit(session: S, response: Response): Promise<Response>;
  count(): Promise<number>;
  gc(): Promise<number>;
}

export declare function fetchApi<Raw, S>(
  binding: FetchBinding<Raw, S>,
): {
  Manager: new (options?: unknown) => FetchManager<S>;
  errorResponse(err: unknown): Response;
};
