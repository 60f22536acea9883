'use strict';
/**
 * The provider sandbox in its own process, so that the process being measured does not share its event
 * loop with the provider. Options (SandboxOptions) come as JSON in SANDBOX_OPTIONS; sends { ready, url }.
 *
 * It listens itself (createSandbox, not startSandbox) to ask for a listen backlog of 4096: with Node's
 * default of 511, the baseline's 1 000 simultaneous connections overflow it and the kernel drops SYNs,
 * which adds a 1 s retransmission to some rounds — an artifact of the emulator, not of the baseline.
 */
const http = require('node:http');
const { createSandbox } = require('@passport-martech/sandbox');

async function main() {
  const options = JSON.parse(process.env.SANDBOX_OPTIONS || '{}');
  const { app } = createSandbox({ autoApprove: true, ...options });
  const server = http.createServer(app);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  process.send({ ready: true, url: `http://127.0.0.1:${server.address().port}` });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
