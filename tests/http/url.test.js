// The behaviour suite against any running app that serves the demo routes:
//   POLYSESSION_BASE_URL=http://127.0.0.1:8080 [POLYSESSION_STORED=false] node --test tests/http/url.test.js
// Without options to restart it with, the cases that need them say so.
import { describe } from 'node:test';
import { behaviour } from './suite.js';
import { urlHost } from './hosts.js';

const url = process.env.POLYSESSION_BASE_URL;
if (url) behaviour(urlHost(url.replace(/\/$/, ''), process.env.POLYSESSION_STORED !== 'false'));
else describe('demo routes at POLYSESSION_BASE_URL', { skip: 'POLYSESSION_BASE_URL is not set' }, () => {});
