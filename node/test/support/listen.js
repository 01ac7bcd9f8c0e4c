// Preloaded (node --require) into the README examples, which stay unchanged: their
// `listen(3000)` takes any free port and prints it, and `require('express')` gives Express 4
// when POLYSESSION_EXPRESS=express4.
'use strict';
const http = require('node:http');
const Module = require('node:module');

const express = process.env.POLYSESSION_EXPRESS;
if (express && express !== 'express') {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return resolve.call(this, request === 'express' ? express : request, ...rest);
  };
}

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (port, ...rest) {
  this.once('listening', () => console.log(`listening ${this.address().port}`));
  return listen.call(this, port === 3000 ? 0 : port, '127.0.0.1');
};
