// Node.js: the raw bindings, for packages that build their own API on them (the Node
// package `polysession` falls back to these when its native addon cannot be loaded).
import './node.js';

export { RawManager, Session as RawSession, errorResponseInit } from '../pkg/polysession_wasm.js';
