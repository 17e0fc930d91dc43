// Shared by the smoke drivers (plain JavaScript, for any Node) and the mocha tests (jwks-uri-probe.d.mts).
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';

/**
 * Makes the server at `base` fetch `jwksUri` as anyone could: registers a private_key_jwt client with that key set
 * URL (registration does not fetch it), then authenticates as it at the token endpoint with an assertion signed by
 * a key made for the occasion, which the server needs the key set to check. Returns the registration's status and
 * the token endpoint's answer.
 */
export async function probeJwksUri(base, jwksUri) {
  const registered = await fetch(`${base}/oauth/clients`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['https://app.example.org/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri }),
    signal: AbortSignal.timeout(15_000),
  });
  if (registered.status !== 201) return { registration: registered.status, token: undefined };
  const { client_id: clientId } = await registered.json();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { iss: clientId, sub: clientId, aud: `${base}/oauth/token`, jti: randomUUID(), iat: now, exp: now + 60 };
  const input = `${part({ alg: 'RS256', kid: 'k1' })}.${part(claims)}`;
  const token = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: 'unused', redirect_uri: 'https://app.example.org/cb', client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`,
    }),
    signal: AbortSignal.timeout(15_000),
  });
  return { registration: registered.status, token };
}
