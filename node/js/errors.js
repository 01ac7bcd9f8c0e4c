'use strict';
// The one error mapping of the Node package: the native binding throws `Error`s whose message
// starts with the core's stable code ("STORE_UNAVAILABLE: ..."); they become
// `PolysessionError`s with `code`, as polysession-wasm's are.

const CODES = new Set([
  'BAD_CONFIG',
  'BAD_INPUT',
  'STORE_UNAVAILABLE',
  'CONFLICT',
  'TOO_LARGE',
  'UNSUPPORTED',
  'UNKNOWN_PROVIDER',
]);

function mapError(err) {
  if (err instanceof Error && err.name !== 'PolysessionError') {
    const code = /^([A-Z_]+): /.exec(err.message)?.[1];
    if (CODES.has(code)) {
      err.name = 'PolysessionError';
      err.code = code;
    }
  }
  return err;
}

/** A `PolysessionError` of `code` (for errors the JS layer raises itself). */
function polysessionError(code, message) {
  return mapError(new Error(`${code}: ${message}`));
}

/** Runs `fn`, mapping what it throws or rejects with. */
function call(fn) {
  let result;
  try {
    result = fn();
  } catch (err) {
    throw mapError(err);
  }
  if (result && typeof result.then === 'function') {
    return result.then(undefined, (err) => {
      throw mapError(err);
    });
  }
  return result;
}

const codeOf = (err) => (err?.name === 'PolysessionError' ? err.code : undefined);

module.exports = { call, codeOf, mapError, polysessionError };
