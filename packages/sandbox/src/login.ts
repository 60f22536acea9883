/**
 * A whole login through a passport strategy pointed at a sandbox started with `autoApprove: true`, for a
 * strategy package's own tests: passport's two legs driven by hand, as `passport.authenticate` drives them
 * (a derived object per request, one shared session object), with the consent leg a plain GET here.
 */

/** What the driver needs of a passport strategy (passport-oauth2's `authenticate`). */
export interface AuthenticatingStrategy {
  authenticate(req: unknown, options?: object): void;
}

export type SandboxLoginOutcome = { kind: 'success'; user: unknown } | { kind: 'fail' | 'error'; detail: unknown };

/**
 * The outcome of one login: `success` with the user the verify callback gave, or the strategy's `fail` or
 * `error`. The redirect leg must reach the sandbox (a failure there rejects).
 */
export async function sandboxLogin(strategy: AuthenticatingStrategy): Promise<SandboxLoginOutcome> {
  const session: Record<string, unknown> = { save: (cb: () => void) => cb() };
  const leg = (req: object, actions: Record<string, (value: unknown) => void>) => {
    const attempt = Object.create(strategy) as AuthenticatingStrategy;
    Object.assign(attempt, actions);
    attempt.authenticate({ headers: {}, session, ...req }, {});
  };
  const authorizeURL = await new Promise<string>((resolve, reject) =>
    leg({ query: {} }, { redirect: (url) => resolve(url as string), error: reject, fail: reject }),
  );
  const consent = await fetch(authorizeURL, { redirect: 'manual' });
  const location = consent.headers.get('location');
  if (!location) throw new Error(`@passport-martech/sandbox: the authorize request answered ${consent.status} without a redirect (autoApprove off?)`);
  const back = new URL(location);
  return new Promise<SandboxLoginOutcome>((resolve) =>
    leg(
      { query: Object.fromEntries(back.searchParams) },
      {
        success: (user) => resolve({ kind: 'success', user }),
        fail: (detail) => resolve({ kind: 'fail', detail }),
        error: (detail) => resolve({ kind: 'error', detail }),
      },
    ),
  );
}
