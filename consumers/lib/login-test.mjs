/* global process, console, fetch */
// A complete login with each of the five strategies in the app given as argv[2].
import { PROVIDERS } from './providers.cjs';
import { login, startApp, startSandbox } from './harness.mjs';

const sandbox = await startSandbox();
try {
  // V8's heuristics are what request-shape.ts works with; the project's Node (DESIGN.md) is 20.
  const checkShapes = process.versions.node.startsWith('20.');
  const app = await startApp(process.argv[2], { SANDBOX_URL: sandbox.url, CHECK_DICTIONARY_MODE: checkShapes ? '1' : '' });
  try {
    for (const id of PROVIDERS) {
      const { user } = await login(app.url, id);
      if (user?.provider !== id || typeof user.id !== 'string' || !user.id) throw new Error(`${id}: signed in as ${JSON.stringify(user)}`);
      console.log(`ok ${id}: signed in`);
    }
    if (checkShapes) {
      const shapes = await (await fetch(`${app.url}/shapes`)).json();
      for (const id of PROVIDERS) {
        const { before, after } = shapes[id] ?? {};
        if (String(before) !== 'true,true' || String(after) !== 'false,false') {
          throw new Error(`${id}: the login's request and response were not put in dictionary mode: ${JSON.stringify(shapes[id])}`);
        }
      }
      console.log(`ok the first leg's request and response in dictionary mode (${PROVIDERS.join(', ')})`);
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
