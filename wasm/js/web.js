// Deno, browsers and bundlers: the wasm is fetched next to this file (top-level await).
import init from '../pkg/polysession_wasm.js';

await init({ module_or_path: new URL('../pkg/polysession_wasm_bg.wasm', import.meta.url) });

export * from './manager.js';
