// Vercel Edge entry: .wasm is imported with the `?module` suffix.
import wasm from '../pkg/polysession_wasm_bg.wasm?module';
import { initSync } from '../pkg/polysession_wasm.js';

initSync({ module: wasm });

export * from './manager.js';
