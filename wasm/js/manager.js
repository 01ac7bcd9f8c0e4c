// The public API of polysession-wasm: the shared fetch helper (js/fetch.js) over the wasm raw
// bindings. Options go to the raw manager as given: it splits them in Rust.
import { RawManager, Session, KeyRing, errorResponseInit } from '../pkg/polysession_wasm.js';
import { fetchApi } from './fetch.js';

export { Session, KeyRing };

export const { Manager, errorResponse } = fetchApi({
  create: (options) => new RawManager(options),
  errorResponseInit,
  codeOf: (err) => (err?.name === 'PolysessionError' ? err.code : undefined),
});
