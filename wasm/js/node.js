// Node.js entry: the wasm is read from the package directory.
import { readFileSync } from 'node:fs';
import { initSync } from '../pkg/polysession_wasm.js';

initSync({ module: readFileSync(new URL('../pkg/polysession_wasm_bg.wasm', import.meta.url)) });

export * from './manager.js';
