/**
 * What a TypeScript user sees (strict): natural option code compiles (env values, a region from the
 * environment, an inline verify typed by the overloads), and a wrong option is an error naming it.
 * Compiled with the TypeScript compiler API against the packages' published declarations (dist).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** Compiles every case in one program (one type-check of the packages); the diagnostics of each. */
function diagnose(cases: Record<string, string>): Record<string, string[]> {
  const dir = mkdtempSync(join(__dirname, '.ts-options-'));
  try {
    const files = Object.entries(cases).map(([name, code]) => {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, `${code}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
    });
    const out: Record<string, string[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const related = (d.relatedInformation ?? []).map((r) => ts.flattenDiagnosticMessageText(r.messageText, '\n'));
      const name = d.file ? d.file.fileName.replace(/^.*\//, '').replace(/\.ts$/, '') : 'global';
      (out[name] ??= []).push([`TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`, ...related].join('\n'));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HEADER = `import { HubSpotStrategy } from '@passport-martech/hubspot';
import { CustomerIoStrategy } from '@passport-martech/customerio';
import { MarketoClientCredentials } from '@passport-martech/marketo';
`;

const CASES = {
  natural: `${HEADER}
new HubSpotStrategy(
  { clientID: process.env.HUBSPOT_CLIENT_ID, clientSecret: process.env.HUBSPOT_CLIENT_SECRET, callbackURL: process.env.CALLBACK_URL,
    region: process.env.HUBSPOT_REGION || 'na1', state: { cookie: { key: process.env.STATE_COOKIE_KEY } } },
  (accessToken, refreshToken, profile, done) => done(null, { id: profile.id, hub: profile.hubId }),
);
new CustomerIoStrategy(
  { clientID: process.env.CUSTOMERIO_CLIENT_ID, clientSecret: process.env.CUSTOMERIO_CLIENT_SECRET, callbackURL: '/cb', region: process.env.CUSTOMERIO_REGION || 'us' },
  async (accessToken, refreshToken, profile) => ({ id: profile.id }),
);
new HubSpotStrategy({ clientID: 'c', clientSecret: 's', callbackURL: '/cb', passReqToCallback: true }, (req, accessToken, refreshToken, profile, done) =>
  done(null, { id: profile.id, ip: req.ip }),
);
new MarketoClientCredentials({ munchkinId: '123-ABC-456', clientId: process.env.MARKETO_CLIENT_ID, clientSecret: process.env.MARKETO_CLIENT_SECRET });
`,
  wrongType: `${HEADER}
new HubSpotStrategy({ clientID: 'c', clientSecret: 's', callbackURL: '/cb', timeout: '10' }, (a, r, p, done) => done(null, { id: p.id }));
`,
  misspelt: `${HEADER}
new HubSpotStrategy({ clientID: 'c', clientSecret: 's', callbackURL: '/cb', scpe: 'x' }, (a, r, p, done) => done(null, { id: p.id }));
`,
  missing: `${HEADER}
new HubSpotStrategy({ clientSecret: 's', callbackURL: '/cb' }, (a, r, p, done) => done(null, { id: p.id }));
`,
};

describe('TypeScript: strategy options under strict', () => {
  let errors: Record<string, string[]>;
  beforeAll(() => {
    errors = diagnose(CASES);
  }, 60_000);

  it('natural code compiles: env values, a region from the environment, the cookie key, inline verify forms', () => {
    expect(errors.natural).toEqual([]);
    expect(errors.global).toBeUndefined();
  });

  it('a wrong option type is an error that names the option', () => {
    expect(errors.wrongType[0]).toContain("The expected type comes from property 'timeout'");
  });

  it('a misspelt option is an error that names it and suggests the right one', () => {
    expect(errors.misspelt[0]).toMatch(/'scpe' does not exist in type 'HubSpotStrategyOptions'\. Did you mean to write 'scope'\?/);
  });

  it('a missing required option is an error that names it', () => {
    expect(errors.missing[0]).toMatch(/clientID/);
  });

  it('at run time, an unset clientID or an unknown region is a TypeError naming the option', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { HubSpotStrategy } = require('@passport-martech/hubspot') as typeof import('@passport-martech/hubspot');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { CustomerIoStrategy } = require('@passport-martech/customerio') as typeof import('@passport-martech/customerio');
    const verify = () => undefined;
    expect(() => new HubSpotStrategy({ clientID: undefined, clientSecret: 's', callbackURL: '/cb' }, verify)).toThrow(
      new TypeError('@passport-martech/hubspot: option "clientID" is required (a non-empty string)'),
    );
    expect(() => new HubSpotStrategy({ clientID: 'c', clientSecret: 's', callbackURL: undefined }, verify)).toThrow(/option "callbackURL" is required/);
    expect(() => new CustomerIoStrategy({ clientID: 'c', clientSecret: 's', callbackURL: '/cb', region: 'mars' }, verify)).toThrow(
      /@passport-martech\/customerio: option "region" must be one of 'us', 'eu'/,
    );
    expect(() => new HubSpotStrategy({ clientID: 'c', clientSecret: 's', callbackURL: '/cb', region: 'eu2' }, verify)).toThrow(/option "region" must be one of/);
  });
});
