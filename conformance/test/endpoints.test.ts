/**
 * Every provider's endpoint options require https (the client secret, the code and the tokens travel
 * there), except loopback hosts and with the documented `allowInsecureHttp: true` opt-in. Every catalog
 * provider and dialect configuration: the options that take a URL (read from its sandbox endpoints).
 */
import { MarketoClientCredentials } from '@passport-martech/marketo';
import { sandboxEndpoints } from '@passport-martech/sandbox';
import { providerCases } from './providers';

const SECRET = 'conformance-secret-value-123';
const base = { clientID: 'client', clientSecret: SECRET, callbackURL: 'http://127.0.0.1:3999/cb' };
const verify = (() => undefined) as never;
/** URL options every strategy takes (ProviderStrategyOptions). */
const COMMON = ['authorizationURL', 'tokenURL', 'userProfileURL'];

type Build = (options: Record<string, unknown>) => unknown;

/**
 * Each catalog provider in each dialect configuration: the common URL options plus every URL option its
 * sandbox endpoints name (`apiBaseURL`, `instanceURL`, `resource`, ...), the real-deployment options set.
 */
const cases: { label: string; build: Build; options: string[] }[] = [
  ...providerCases.map((c) => ({
    label: c.label,
    build: ((o) => c.withDefaults({ ...base, ...o } as never, verify)) as Build,
    options: [...new Set([...COMMON, ...Object.keys(sandboxEndpoints('http://127.0.0.1:4000', c.id, c.flow.variant)).filter((k) => !(k in c.flow.variant))])],
  })),
  {
    // Not a strategy: Marketo's client-credentials client, with its own two URL options.
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
