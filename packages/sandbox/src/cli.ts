#!/usr/bin/env node
/** `passport-martech-sandbox --port 4000 [--host 127.0.0.1] [--auto-approve]`, or `--endpoints` */
import { parseArgs } from 'node:util';
import { defaultClient } from './config';
import { describeDialects } from './describe';
import { startSandbox } from './server';
import { PROVIDERS } from './providers';
import { PROVIDER_IDS } from './types';

/** "A, B and C" from the registry's display names. */
function providerNames(): string {
  const names = PROVIDER_IDS.map((id) => PROVIDERS[id].displayName);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names.join('');
}

const USAGE = `Usage: passport-martech-sandbox [--port 4000] [--host 127.0.0.1] [--auto-approve]
       passport-martech-sandbox --endpoints

A local emulator of the ${providerNames()} OAuth dialects.
  --port N          port to listen on (default 4000; 0 picks a free one)
  --host H          address to listen on (default 127.0.0.1)
  --auto-approve    skip the consent page: authorize redirects with a code at once
  --endpoints       print every provider's endpoints, demo user and answer fields (Markdown) and exit
  --help            this text`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '4000' },
        host: { type: 'string', default: '127.0.0.1' },
        'auto-approve': { type: 'boolean', default: false },
        endpoints: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.endpoints) {
    console.log(describeDialects());
    return;
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    console.error(`--port must be a number from 0 to 65535\n\n${USAGE}`);
    process.exit(2);
  }
  const sandbox = await startSandbox({ port, host: values.host, autoApprove: values['auto-approve'] });
  const width = Math.max(...PROVIDER_IDS.map((id) => id.length)) + 1;
  const lines = [`passport-martech sandbox listening on ${sandbox.url}`, ''];
  for (const id of PROVIDER_IDS) lines.push(`${id.padEnd(width)}${sandbox.urls[id]}`);
  lines.push('', 'Default clients (client_id / client_secret; demo credentials, not secrets):');
  for (const id of PROVIDER_IDS) {
    const c = defaultClient(id);
    lines.push(`${id.padEnd(width)}${c.clientId} / ${c.clientSecret}`);
  }
  lines.push('', `Control routes under ${sandbox.url}/_sandbox (stats, faults, reset, expire, revoke). Ctrl-C stops.`);
  console.log(lines.join('\n'));

  const stop = () => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`passport-martech-sandbox: ${(e as Error).message}`);
  process.exit(1);
});
