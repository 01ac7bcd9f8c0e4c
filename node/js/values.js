'use strict';
// Session values as JSON text, the form they cross into Rust in. What JSON cannot hold
// faithfully is a TypeError naming the key, instead of the silent loss JSON.stringify gives:
// functions, symbols, BigInts, cycles, Maps, Sets and other objects whose prototype is not
// Object's or Array's (objects with a toJSON method, such as Dates, give what it returns).

function check(key, value, path, seen) {
  const fail = (what) => {
    const where = path ? ` at ${path}` : '';
    const err = new TypeError(`BAD_INPUT: session value \`${key}\`${where} cannot be stored as JSON: ${what}`);
    err.code = 'BAD_INPUT';
    throw err;
  };
  switch (typeof value) {
    case 'function':
      return fail('it is a function');
    case 'symbol':
      return fail('it is a symbol');
    case 'bigint':
      return fail('it is a BigInt');
    case 'object': {
      if (value === null) return;
      if (typeof value.toJSON === 'function') return check(key, value.toJSON(), path, seen);
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
        return fail(`it is a ${value.constructor?.name ?? 'non-plain object'}`);
      }
      if (seen.includes(value)) return fail('it contains a cycle');
      seen.push(value);
      for (const [k, v] of Object.entries(value)) check(key, v, `${path}/${k}`, seen);
      seen.pop();
      return;
    }
    default:
  }
}

/** The JSON text of `value` stored under `key`; `undefined` for `undefined`. */
function toJsonText(key, value) {
  if (value === undefined) return undefined;
  check(key, value, '', []);
  return JSON.stringify(value);
}

module.exports = { toJsonText };
