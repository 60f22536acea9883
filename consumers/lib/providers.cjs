// Each strategy pointed at the sandbox (only URLs and the sandbox's demo client change), as the
// provider READMEs' "Try it against the sandbox" sections show.
const PROVIDERS = ['hubspot', 'marketo', 'ontraport', 'customerio', 'boomtown'];

function sandboxOptions(id, sandboxURL, appURL) {
  const base = {
    clientID: `demo-${id}-client`, // the sandbox's default clients; not secrets
    clientSecret: `demo-${id}-secret`,
    callbackURL: `${appURL}/auth/${id}/callback`,
  };
  const at = `${sandboxURL}/${id}`;
  switch (id) {
    case 'hubspot':
      return {
        ...base,
        authorizationURL: `${at}/oauth/authorize`,
        tokenURL: `${at}/oauth/2026-03/token`,
        userProfileURL: `${at}/oauth/2026-03/token/introspect`,
      };
    case 'marketo':
      return { ...base, instanceURL: at };
    case 'ontraport':
      return { ...base, authorizationURL: `${at}/oauth2/auth`, tokenURL: `${at}/oauth2/token` };
    case 'customerio':
      return { ...base, authorizationURL: `${at}/oauth/authorize`, tokenURL: `${at}/v1/oauth/token` };
    case 'boomtown':
      return { ...base, authorizationURL: `${at}/oauth/authorize`, tokenURL: `${at}/oauth/token` };
    default:
      throw new Error(`unknown provider ${id}`);
  }
}

module.exports = { PROVIDERS, sandboxOptions };
