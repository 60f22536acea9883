'use strict';
/** A small keep-alive HTTP GET for load generation: status, headers, body drained. */
const http = require('node:http');

function createClient({ maxSockets = 64 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    get(url, headers = {}) {
      return new Promise((resolve, reject) => {
        const req = http.get(url, { agent, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
          res.on('error', reject);
        });
        req.on('error', reject);
      });
    },
    close: () => agent.destroy(),
  };
}

/** The `name=value` part of a response's first Set-Cookie. */
function cookieOf(response) {
  const set = response.headers['set-cookie'];
  return set && set.length ? set[0].split(';')[0] : undefined;
}

module.exports = { createClient, cookieOf };
