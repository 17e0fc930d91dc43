import { setTimeout as sleep } from 'node:timers/promises';
import { postForm, tokenRequest, type ServerMetadata, type TokenResponse } from './authorization-server.js';
import type { CliConfig } from './config.js';
import { fail, OAuthError } from './errors.js';

/*
 * The device authorization grant (RFC 8628): the server gives a user code, the user enters it on the
 * verification page in any browser (on any device), and the CLI polls the token endpoint until they have.
 */

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.2: without an interval from the server, clients MUST poll every 5 seconds. */
const DEFAULT_INTERVAL_S = 5;

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

export async function startDeviceAuthorization(config: CliConfig, metadata: ServerMetadata): Promise<DeviceAuthorization> {
  if (!metadata.device_authorization_endpoint) throw fail.deviceRefused(config.client.id, 'the server does not offer it');
  try {
    const device = await postForm(config.server, metadata.device_authorization_endpoint, config.client, { resource: config.resource }) as Partial<DeviceAuthorization>;
    if (typeof device.device_code !== 'string' || typeof device.user_code !== 'string' || typeof device.verification_uri !== 'string') {
      throw new OAuthError('invalid_response', 'the device authorization response is incomplete', 200);
    }
    return device as DeviceAuthorization;
  } catch (err) {
    if (err instanceof OAuthError && err.status < 500) throw fail.deviceRefused(config.client.id, err.description, err);
    if (err instanceof OAuthError) throw fail.serverError('start the device flow', err);
    throw err;
  }
}

/** Polls until the user has confirmed (tokens), cancelled, or let the code expire. */
export async function pollForTokens(config: CliConfig, metadata: ServerMetadata, device: DeviceAuthorization): Promise<TokenResponse> {
  const deadline = Date.now() + device.expires_in * 1000;
  let interval = device.interval ?? DEFAULT_INTERVAL_S;
  for (;;) {
    await sleep(interval * 1000);
    if (Date.now() > deadline) throw fail.deviceExpired();
    try {
      return await tokenRequest(config.server, metadata, config.client, { grant_type: DEVICE_GRANT, device_code: device.device_code });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      if (err.error === 'authorization_pending') continue;
      if (err.error === 'slow_down') {
        interval += 5;
        continue;
      }
      if (err.error === 'access_denied') throw fail.accessDenied();
      if (err.error === 'expired_token') throw fail.deviceExpired();
      throw err.status < 500 ? fail.authorizationFailed(err.error, err.description) : fail.serverError('complete the device login', err);
    }
  }
}
