// What `import 'polysession-wasm'` resolves to inside workerd: the package's `workerd` export.
export * from './js/workers.js';
