import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { Config } from '../../config/env.js';
import { isPrivateAddress } from '../http/client-network.js';

/** Headers a reverse proxy adds: with TRUST_PROXY off, a request carrying one came through a proxy we were not told of. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/**
 * Who may read /metrics (request counts, login outcomes, limit refusals: nothing for the public). With
 * METRICS_TOKEN, whoever sends it as a bearer token, from any address. Without, the operator's own network:
 * a loopback or private client address (Koa's ctx.ip, so the proxy's X-Forwarded-For entry with TRUST_PROXY).
 * With TRUST_PROXY off, a request that shows signs of a proxy is refused: its socket address is the proxy's,
 * likely a private one, while the client is anywhere.
 */
export function metricsAccess({ metricsToken, trustProxy }: Pick<Config, 'metricsToken' | 'trustProxy'>): (ctx: Context) => boolean {
  if (metricsToken) {
    const expected = digest(metricsToken);
    return (ctx) => {
      const sent = /^Bearer +(\S+)$/i.exec(ctx.get('authorization'))?.[1];
      // Equal-length digests: the comparison takes the same time whatever was sent.
      return sent !== undefined && timingSafeEqual(digest(sent), expected);
    };
  }
  return (ctx) => (trustProxy > 0 || !FORWARDING_HEADERS.some((name) => ctx.get(name))) && isPrivateAddress(ctx.ip);
}

const digest = (token: string) => createHash('sha256').update(token).digest();
