/**
 * The endpoint reference of every served dialect, generated from the tables (`passport-martech-sandbox
 * --endpoints`), so no document lists providers by hand: a new dialect appears here by being registered.
 */
import type { FlowDialect, ProviderDialect, ResourceRoute } from './dialect';
import { PROVIDERS } from './providers';
import type { Grant } from './state';
import { PROVIDER_IDS } from './types';

const code = (text: string) => `\`${text}\``;
const list = (items: string[]) => items.map(code).join(', ');

function flowRules(flow: FlowDialect): { authorize: string; token: string } {
  const pkce = flow.pkce.required ? `PKCE required (${flow.pkce.methods.join(' or ')})` : `PKCE optional (${flow.pkce.mark})`;
  const authorize = [
    flow.requiredScopes.length ? `scope must include ${list(flow.requiredScopes)}` : 'no scope rule',
    ...(flow.optionalScopeParam ? [`${code(flow.optionalScopeParam)} granted too`] : []),
    pkce,
    ...(flow.resourceRequired ? [`${code('resource')} required`] : []),
  ];
  const token = [`${flow.bodyEncoding} body`, `client auth ${list(flow.clientAuth)}`, ...(flow.resourceRequired ? [`${code('resource')} must equal the authorize one`] : [])];
  return { authorize: authorize.join('; '), token: token.join('; ') };
}

/** The fields of an answer the dialect renders for its demo user (values are not shown: they are tokens). */
function fieldsOf(answer: unknown): string {
  return answer && typeof answer === 'object' ? list(Object.keys(answer)) : typeof answer;
}

function resourceRow(id: string, r: ResourceRoute): string {
  const method = r.kind === 'introspect' ? 'POST' : 'GET';
  const how = { bearer: 'Bearer token', 'path-token': 'the token as the last path segment', introspect: 'RFC 7662 form: client credentials + `token`' }[r.kind];
  const sandboxOnly = r.kind === 'bearer' && r.endpoint === 'identity' && r.mark === 'UNK' ? '; **sandbox-only**' : '';
  return `| ${id} | ${r.endpoint} | ${method} ${code(r.path)} | ${how}${sandboxOnly} | ${r.mark} |`;
}

function providerRows(d: ProviderDialect): string[] {
  const rows: string[] = [];
  for (const flow of d.flows) {
    const label = flow.name === 'main' ? '' : ` (${flow.name.toUpperCase()})`;
    const rules = flowRules(flow);
    rows.push(`| ${d.id} | authorize${label} | GET ${flow.authorizePaths.map(code).join(', ')} | ${rules.authorize} | ${flow.mark} |`);
    rows.push(`| ${d.id} | token${label} | POST ${flow.tokenPaths.map(code).join(', ')} | ${rules.token} | ${flow.mark} |`);
    if (flow.revocationPaths?.length) {
      rows.push(`| ${d.id} | revocation${label} | POST ${flow.revocationPaths.map(code).join(', ')} | RFC 7009: form body, the token endpoint's client authentication | ${flow.mark} |`);
    }
    const as = flow.authorizationServer;
    if (as) {
      const iss = as.issParameter ? '; `iss` on every redirect' : '';
      rows.push(`| ${d.id} | registration, revocation${label} | POST ${code(as.registrationPath)}, ${code(as.revocationPath)} | RFC 7591, RFC 7009; resource ${code(as.resourcePath)}${iss} | ${as.mark} |`);
    }
  }
  if (d.clientCredentials) {
    rows.push(`| ${d.id} | client credentials | GET or POST ${code(d.clientCredentials.path)} | parameters in the query string | ${d.clientCredentials.mark} |`);
  }
  rows.push(...d.resources.map((r) => resourceRow(d.id, r)));
  return rows;
}

function answers(d: ProviderDialect): string[] {
  const user = d.defaultUser;
  return d.flows.map((flow) => {
    const grant: Grant = { provider: d.id, flow: flow.name, clientId: 'client', scopes: flow.requiredScopes, user };
    const token = flow.tokenResponse({ accessToken: 'a', refreshToken: 'r', expiresIn: d.defaultAccessTokenTtlSeconds, grant });
    const errors = (flow.errorShape ?? d.errorShape)({ status: 400, error: 'invalid_grant', description: 'd' });
    const label = flow.name === 'main' ? d.id : `${d.id} (${flow.name})`;
    return `| ${label} | ${fieldsOf(token)} | ${fieldsOf(errors)} |`;
  });
}

/** Markdown: every provider's endpoints, demo user, token answer fields and error fields. */
export function describeDialects(): string {
  const dialects = PROVIDER_IDS.map((id) => PROVIDERS[id]);
  return [
    'All paths are under `<sandbox>/<provider>`.',
    '',
    '| provider | endpoint | method, path | rules | mark |',
    '|---|---|---|---|---|',
    ...dialects.flatMap(providerRows),
    '',
    '| provider | demo userId | email | accountId | access token lifetime |',
    '|---|---|---|---|---|',
    ...dialects.map((d) => `| ${d.id} | ${code(String(d.defaultUser.userId))} | ${code(d.defaultUser.email)} | ${code(String(d.defaultUser.accountId))} | ${d.defaultAccessTokenTtlSeconds} s |`),
    '',
    '| flow | token answer fields | error fields |',
    '|---|---|---|',
    ...dialects.flatMap(answers),
  ].join('\n');
}
