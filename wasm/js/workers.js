// Cloudflare Workers (wrangler) entry: .wasm imports are WebAssembly.Module objects.
import wasm from '../pkg/polysession_wasm_bg.wasm';
import { initSync } from '../pkg/polysession_wasm.js';

initSync({ module: wasm });

export * from './manager.js';
