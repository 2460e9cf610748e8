// Local OAuth 2.0 provider for `make run` and the end-to-end tests (dev only, loopback only).
//
// A real `oidc-provider` issuing JWT access tokens with the client_credentials grant. Everything
// it needs (issuer, port, signing keys, clients, resource servers) comes from one JSON file
// written by local/oidc_provider.py, so tests can restart it with rotated keys.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const resources = new Map(config.resources.map((r) => [r.indicator, r]));
const ttlByClient = new Map(config.clients.map((c) => [c.client_id, c.access_token_ttl]));
const signingAlg = config.signing_alg;

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    // The only key may be ES256; id tokens default to RS256 (oidc-provider's default id token algorithm needs an RS256 key).
    id_token_signed_response_alg: signingAlg,
    scope: c.scope,
  })),
  jwks: config.jwks,
  scopes: config.scopes,
  cookies: { keys: [config.cookie_key] },
  ttl: {
    ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
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

const server = createServer(provider.callback());
server.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${config.issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
