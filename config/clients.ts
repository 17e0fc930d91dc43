import type { ClientMetadata } from 'oidc-provider';
import type { Config } from './env.js';

/** The command-line client's id: public (PKCE, no secret), first-party, pre-registered. */
export const CLI_CLIENT_ID = 'mcp-cli';

/** Clients known before the server starts. First-party clients are trusted: they never see a consent page. */
export interface StaticClients {
  metadata: ClientMetadata[];
  firstParty: ReadonlySet<string>;
  /** Confidential clients without grants that may introspect tokens. */
  resourceServers: ReadonlySet<string>;
}

export function staticClients(config: Config, issuer: string): StaticClients {
  const client1: ClientMetadata = {
    client_id: 'client1',
    client_secret: config.client1.secret,
    client_name: 'client1',
    redirect_uris: config.client1.redirectUris ?? [`${issuer}/callback`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // client_secret_post is accepted for such clients too: oidc-provider treats basic and post as one method.
    token_endpoint_auth_method: 'client_secret_basic',
  };
  // A native app (RFC 8252): any port on the loopback redirect, or the server's own /callback page for
  // manual code entry, as the seed's command-line flow does.
  const cli: ClientMetadata = {
    client_id: CLI_CLIENT_ID,
    client_name: 'mcp-oauth command line',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/callback', `${issuer}/callback`],
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
  };
  const resourceServers: ClientMetadata[] = config.resourceServers.map(({ clientId, secret }) => ({
    client_id: clientId,
    client_secret: secret,
    redirect_uris: [],
    grant_types: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }));
  return {
    metadata: [client1, cli, ...resourceServers],
    firstParty: new Set(['client1', CLI_CLIENT_ID]),
    resourceServers: new Set(config.resourceServers.map((rs) => rs.clientId)),
  };
}
