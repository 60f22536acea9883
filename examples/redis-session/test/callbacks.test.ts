/**
 * Callbacks: an `?error=` callback puts no text of its own on the page or in the logs (only a known RFC
 * 6749 code, else "unknown"), and the Link button's one-time intent is used up by a conflicting link and
 * expires. Against a real redis-server and the sandbox.
 */
import request from 'supertest';
import { consent, csrfFrom, link, login, useStack, type Agent } from './helpers';

const stack = useStack({ env: { LOG_LEVEL: 'info' } });

const PLANTED = 'server_error).%20Your%20HubSpot%20account%20is%20suspended.%20Call%20+1-555-0100';
// Words of the planted text that cannot turn up by chance (a bare "555" can be part of a random port).
const PLANTED_WORDS = ['suspended', '555-0100', '555%2D0100', 'evil.example', 'Call', 'account%20is'];

function expectNoPlantedText(...texts: string[]): void {
  for (const text of texts) for (const word of PLANTED_WORDS) expect(text).not.toContain(word);
}

/** Starts a login and returns the `state` the app sent to the provider. */
async function startedState(agent: Agent, provider: string): Promise<string> {
  const start = await agent.get(`/auth/${provider}`);
  expect(start.status).toBe(302);
  return new URL(start.headers.location).searchParams.get('state') as string;
}

describe('an error callback shows and logs a known code only', () => {
  test('the text planted in a link to the callback reaches neither the page nor the logs', async () => {
    const res = await request(stack.app.app).get(`/auth/hubspot/callback?error=${PLANTED}`);
    expect([400, 502]).toContain(res.status);
    expectNoPlantedText(res.text, stack.app.logs.join('\n'));
    expect(stack.app.logs.length).toBeGreaterThan(0); // the request is logged, without the text
  });

  test('for a login this browser started: "unknown" on the page, no description anywhere', async () => {
    const agent = request.agent(stack.app.app);
    const state = await startedState(agent, 'hubspot');
    const description = encodeURIComponent('Your HubSpot account is suspended. Call +1-555-0100');
    const res = await agent.get(`/auth/hubspot/callback?error=${PLANTED}&error_description=${description}&error_uri=https%3A%2F%2Fevil.example%2F555&state=${encodeURIComponent(state)}`);
    expect(res.status).toBe(502);
    expect(res.text).toContain('(unknown)');
    expectNoPlantedText(res.text, stack.app.logs.join('\n'));
    expect(stack.app.logs.join('\n')).not.toContain('evil.example');
  });

  test.each([
    ['invalid_scope', 502],
    ['temporarily_unavailable', 503],
  ])('a known code (%s) is named; its error_description is not shown or logged', async (code, status) => {
    const agent = request.agent(stack.app.app);
    const state = await startedState(agent, 'marketo');
    const res = await agent.get(`/auth/marketo/callback?error=${code}&error_description=Call%20%2B1-555-0100%20now&state=${encodeURIComponent(state)}`);
    expect(res.status).toBe(status);
    if (status === 502) expect(res.text).toContain(`(${code})`);
    const logs = stack.app.logs.join('\n');
    expect(logs).toContain(`error=${code}`);
    expectNoPlantedText(res.text, logs);
  });
});

describe("the Link button's intent", () => {
  /** Marketo + HubSpot on one account (so HubSpot cannot move elsewhere), and a BoomTown user signed in. */
  async function conflictSetup(): Promise<Agent> {
    const owner = request.agent(stack.app.app);
    await login(owner, 'marketo');
    await link(owner, 'hubspot');
    const user = request.agent(stack.app.app);
    await login(user, 'boomtown');
    return user;
  }

  test('is used up by a conflicting link: the same provider cannot then be linked without the button', async () => {
    const user = await conflictSetup();
    const intent = await user.post('/link/hubspot').type('form').send({ _csrf: csrfFrom((await user.get('/account')).text) });
    expect(intent.status).toBe(303);
    // Two tabs start a HubSpot login while the intent is live.
    const [first, second] = [await user.get(intent.headers.location), await user.get(intent.headers.location)];
    const [firstCallback, secondCallback] = [await consent(first.headers.location), await consent(second.headers.location)];

    const conflict = await user.get(`${firstCallback.pathname}${firstCallback.search}`);
    expect(conflict.status).toBe(409);
    // The second tab's login of the SAME provider finds no intent: refused before linking (403), not
    // tried again (which would be another 409).
    const again = await user.get(`${secondCallback.pathname}${secondCallback.search}`);
    expect(again.status).toBe(403);
    expect(again.text).toContain('Use the Link button');
    expect((await user.get('/auth/hubspot')).status).toBe(403);
    expect((await user.get('/account')).text).not.toContain('id="provider-hubspot"');
  });

  test('expires: a login that finishes after it is not a link', async () => {
    const user = request.agent(stack.app.app);
    const { sid } = await login(user, 'boomtown');
    const intent = await user.post('/link/hubspot').type('form').send({ _csrf: csrfFrom((await user.get('/account')).text) });
    const start = await user.get(intent.headers.location);
    expect(start.status).toBe(302);
    // The intent's time is up (LINK_INTENT_MS after the button was pressed); the login itself is not.
    const stored = JSON.parse((await stack.peek.get(`sess:${sid}`)) as string) as { linkIntent: { expiresAt: number } };
    stored.linkIntent.expiresAt = Date.now() - 1;
    await stack.peek.set(`sess:${sid}`, JSON.stringify(stored), 'KEEPTTL');

    const callbackURL = await consent(start.headers.location);
    const res = await user.get(`${callbackURL.pathname}${callbackURL.search}`);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Use the Link button');
    expect((await user.get('/account')).text).not.toContain('id="provider-hubspot"');
    expect(await stack.peek.keys('app:{accounts}:identity:hubspot:*')).toHaveLength(0);
  });

  test('an expired intent does not let a plain GET start a link', async () => {
    const user = request.agent(stack.app.app);
    const { sid } = await login(user, 'boomtown');
    await user.post('/link/hubspot').type('form').send({ _csrf: csrfFrom((await user.get('/account')).text) });
    const stored = JSON.parse((await stack.peek.get(`sess:${sid}`)) as string) as { linkIntent: { expiresAt: number } };
    stored.linkIntent.expiresAt = Date.now() - 1;
    await stack.peek.set(`sess:${sid}`, JSON.stringify(stored), 'KEEPTTL');
    expect((await user.get('/auth/hubspot')).status).toBe(403);
  });
});
