#!/usr/bin/env node
// A committed, executable entry point: npm links it at install time, before dist/ is built.
require('../dist/cli.js');
