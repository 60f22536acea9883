/* global process, console */
// A complete login with each of the five strategies in the app given as argv[2].
import { PROVIDERS } from './providers.cjs';
import { login, startApp, startSandbox } from './harness.mjs';

const sandbox = await startSandbox();
try {
  const app = await startApp(process.argv[2], { SANDBOX_URL: sandbox.url });
  try {
    for (const id of PROVIDERS) {
      const { user } = await login(app.url, id);
      if (user?.provider !== id || typeof user.id !== 'string' || !user.id) throw new Error(`${id}: signed in as ${JSON.stringify(user)}`);
      console.log(`ok ${id}: signed in`);
    }
  } catch (e) {
    console.error(app.output());
    throw e;
  } finally {
    app.stop();
  }
} finally {
  sandbox.stop();
}
