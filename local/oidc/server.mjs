// Local OAuth 2.0 provider for `make run` and the end-to-end tests (dev only, loopback only).
//
// A real `oidc-provider` issuing JWT access tokens with the client_credentials grant, and, for
// `wfctl login`, the authorization-code grant with PKCE for one public native client (RFC 8252:
// loopback redirect, any port) with its own small login and consent pages, checked against one
// fixed demo user. Everything it needs (issuer, port, signing keys, clients, resource servers,
// the demo user) comes from one JSON file written by local/oidc_provider.py, so tests can
// restart it with rotated keys.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const resources = new Map(config.resources.map((r) => [r.indicator, r]));
const ttlByClient = new Map(config.clients.map((c) => [c.client_id, c.access_token_ttl]));
const login = config.login_client;
if (login) ttlByClient.set(login.client_id, login.access_token_ttl);
const signingAlg = config.signing_alg;

const confidential = config.clients.map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  // The only key may be ES256; id tokens default to RS256 (oidc-provider's default id token algorithm needs an RS256 key).
  id_token_signed_response_alg: signingAlg,
  scope: c.scope,
}));
// The operator command's client: public (no secret, RFC 6749 section 2.1), native, so that a
// loopback redirect URI matches whatever port wfctl listens on (RFC 8252 section 7.3).
const publicClients = login
  ? [{
    client_id: login.client_id,
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: signingAlg,
    scope: login.scope,
  }]
  : [];

const provider = new Provider(config.issuer, {
  clients: [...confidential, ...publicClients],
  jwks: config.jwks,
  scopes: config.scopes,
  cookies: { keys: [config.cookie_key] },
  // A code without a PKCE S256 challenge is refused, for every client (RFC 7636; RFC 9700 2.1.1).
  pkce: { required: () => true },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  ttl: {
    ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
    RefreshToken: () => config.refresh_token_ttl ?? 86400,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // DPoP proofs accepted for the algorithms the API's authorizer accepts (docs/security.md).
  enabledJWA: { dPoPSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // DPoP (RFC 9449), on explicitly rather than by the library's default: a token request
    // with a valid DPoP proof gets a token bound to the proof's key (`cnf.jkt`, token_type
    // DPoP); a proof's jti is accepted once. No nonce: the API does not issue any either.
    dPoP: { enabled: true, allowReplay: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.default_resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator, client) => {
        const resource = resources.get(indicator);
        if (!resource) throw new errors.InvalidTarget();
        return {
          audience: resource.audience,
          scope: resource.scope,
          accessTokenFormat: 'jwt',
          accessTokenTTL: ttlByClient.get(client.clientId) ?? 300,
          jwt: { sign: { alg: signingAlg } },
        };
      },
    },
  },
});
provider.proxy = false;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;

function sameSecret(given, expected) {
  // Constant time, whatever the lengths (hashes of equal length are compared).
  const a = createHash('sha256').update(String(given)).digest();
  const b = createHash('sha256').update(String(expected)).digest();
  return timingSafeEqual(a, b);
}

async function formBody(req) {
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > 8192) throw new Error('body too large');
  }
  return new URLSearchParams(raw);
}

function send(res, status, html) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    // No form-action: Chromium applies it to the redirects after a submit, and the consent's
    // redirect chain ends at wfctl's loopback callback, another origin.
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'X-Frame-Options': 'DENY',
  });
  res.end(html);
}

// The login and consent pages: /interaction/<uid> (GET shows, POST submits; /abort refuses).
async function interaction(req, res, action) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (action === 'abort') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (req.method === 'GET' && prompt.name === 'login') {
    send(res, 200, page('Sign in to the local workflow API', `
<p>Client <code>${escape(params.client_id)}</code> asks you to sign in.</p>
<form method="post" action="/interaction/${escape(uid)}" autocomplete="off">
<label>User <input id="login" name="login" autofocus></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="submit" type="submit">Sign in</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button id="abort">Cancel</button></form>`));
    return;
  }
  if (req.method === 'GET' && prompt.name === 'consent') {
    const scopes = [
      ...(prompt.details.missingOIDCScope ?? []),
      ...Object.values(prompt.details.missingResourceScopes ?? {}).flat(),
    ];
    send(res, 200, page('Allow access?', `
<p><code>${escape(params.client_id)}</code> asks for: <code id="scopes">${escape(scopes.join(' '))}</code></p>
<form method="post" action="/interaction/${escape(uid)}"><button id="allow" type="submit">Allow</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button id="deny">Deny</button></form>`));
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, page('Method not allowed', ''));
    return;
  }
  if (prompt.name === 'login') {
    const form = await formBody(req);
    const okUser = sameSecret(form.get('login') ?? '', config.demo_user.login);
    const okPassword = sameSecret(form.get('password') ?? '', config.demo_user.password);
    if (!(okUser && okPassword)) {
      send(res, 401, page('Sign in failed', `<p id="error">Wrong user or password.</p>
<p><a href="/interaction/${escape(uid)}">Try again</a></p>`));
      return;
    }
    await provider.interactionFinished(req, res, {
      login: { accountId: config.demo_user.login },
    }, { mergeWithLastSubmission: false });
    return;
  }
  // Consent: grant what was asked (the scopes are limited to the client's `scope` already).
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scope] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scope.join(' '));
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, {
    mergeWithLastSubmission: true,
  });
}

const callback = provider.callback();
const server = createServer((req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(abort))?$/.exec(req.url.split('?')[0]);
  if (!match) return callback(req, res);
  return interaction(req, res, match[2]).catch((error) => {
    // An expired or unknown interaction (its cookie is gone): no details to the browser.
    console.error(`interaction failed: ${error.name}`);
    send(res, 400, page('This sign-in has expired', '<p>Start again from wfctl login.</p>'));
  });
});
server.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${config.issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
