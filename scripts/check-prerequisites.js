#!/usr/bin/env node
// `npm test` runs this first: the suites start a real redis-server and drive /usr/bin/chromium. When
// either is missing it stops at once, with one line naming the Debian packages and the command.
// PREREQ_PATH / PREREQ_CHROMIUM replace PATH and the browser's path (for this script's own test).
const { accessSync, constants } = require('node:fs');
const { delimiter, join } = require('node:path');

const searchPath = process.env.PREREQ_PATH ?? process.env.PATH ?? '';
const chromium = process.env.PREREQ_CHROMIUM ?? '/usr/bin/chromium';

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const onPath = (command) => searchPath.split(delimiter).some((dir) => dir && executable(join(dir, command)));
const missing = [];
if (!onPath('redis-server')) missing.push('redis-server');
if (!executable(chromium)) missing.push('chromium');
if (missing.length) {
  console.error(
    `npm test needs ${missing.join(' and ')} (Debian packages: ${missing.join(' ')}); install with: sudo apt-get install -y ${missing.join(' ')}`,
  );
  process.exit(1);
}
