/**
 * Every provider's endpoint options require https (the client secret, the code and the tokens travel
 * there), except loopback hosts and with the documented `allowInsecureHttp: true` opt-in. One table per
 * provider: the options that take a URL, and what else the option needs to be read.
 */
import { BoomTownStrategy } from '@passport-martech/boomtown';
import { CustomerIoStrategy } from '@passport-martech/customerio';
import { HubSpotStrategy } from '@passport-martech/hubspot';
import { MarketoClientCredentials, MarketoStrategy } from '@passport-martech/marketo';
import { OntraportStrategy } from '@passport-martech/ontraport';

const SECRET = 'conformance-secret-value-123';
const base = { clientID: 'client', clientSecret: SECRET, callbackURL: 'http://127.0.0.1:3999/cb' };
const verify = (() => undefined) as never;
const COMMON = ['authorizationURL', 'tokenURL', 'userProfileURL'];

type Build = (options: Record<string, unknown>) => unknown;

const cases: { label: string; build: Build; options: string[]; extra?: Record<string, unknown> }[] = [
  { label: 'hubspot', build: (o) => new HubSpotStrategy({ ...base, ...o } as never, verify), options: [...COMMON, 'apiBaseURL'] },
  {
    label: 'marketo',
    build: (o) => new MarketoStrategy({ ...base, instanceURL: 'https://app-ab12.marketo.com', ...o } as never, verify),
    options: [...COMMON, 'instanceURL'],
  },
  { label: 'ontraport', build: (o) => new OntraportStrategy({ ...base, ...o } as never, verify), options: [...COMMON, 'apiBaseURL'] },
  { label: 'ontraport (mcp)', build: (o) => new OntraportStrategy({ ...base, authServer: 'mcp', ...o } as never, verify), options: [...COMMON, 'resource'] },
  { label: 'customerio', build: (o) => new CustomerIoStrategy({ ...base, ...o } as never, verify), options: [...COMMON, 'apiBaseURL'] },
  { label: 'customerio (mcp)', build: (o) => new CustomerIoStrategy({ ...base, authServer: 'mcp', ...o } as never, verify), options: [...COMMON, 'resource'] },
  { label: 'boomtown', build: (o) => new BoomTownStrategy({ ...base, ...o } as never, verify), options: [...COMMON, 'apiBaseURL'] },
  {
    label: 'marketo client credentials',
    build: (o) => new MarketoClientCredentials({ clientId: 'client', clientSecret: SECRET, identityURL: 'https://x.mktorest.com/identity', restURL: 'https://x.mktorest.com/rest', ...o } as never),
    options: ['identityURL', 'restURL'],
  },
];

const rows = cases.flatMap((c) => c.options.map((option) => ({ ...c, option })));

describe.each(rows)('$label: $option', ({ build, option }) => {
  it('plain http to a remote host: a TypeError naming the option and the host, nothing secret', () => {
    let thrown: unknown;
    try {
      build({ [option]: `http://remote.example:8443/p?client_secret=${SECRET}` });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    const message = (thrown as Error).message;
    expect(message).toMatch(new RegExp(`option "${option}" must be an https: URL \\(got http: for host remote\\.example:8443\\)`));
    expect(message).not.toContain(SECRET);
  });

  it('https, a loopback host, or allowInsecureHttp: true is accepted', () => {
    expect(() => build({ [option]: 'https://remote.example/p' })).not.toThrow();
    for (const loopback of ['http://127.0.0.1:4000/p', 'http://localhost:4000/p', 'http://[::1]:4000/p']) {
      expect(() => build({ [option]: loopback })).not.toThrow();
    }
    expect(() => build({ [option]: 'http://remote.example/p', allowInsecureHttp: true })).not.toThrow();
  });
});
