import type { Middleware } from 'koa';
import { ROUTES } from '../config/provider.js';
import { MCP_PATH } from '../config/resource-server.js';
import type { ConnectedAppsSteps } from './connected-apps/steps.js';
import { assets } from './http/assets.js';
import { cors } from './http/cors.js';
import { pageOrJsonErrors } from './http/answer-kind.js';
import { htmlErrors } from './http/errors.js';
import { answerNotCached, noStore } from './http/no-store.js';
import type { AfterStep, RouteTable } from './http/route-table.js';
import { sameOriginPost } from './interactions/guards.js';
import type { InteractionSteps } from './interactions/steps.js';
import type { mcpSteps } from './mcp/steps.js';
import { PRM_PATHS } from './mcp/protected-resource-metadata.js';
import { refuseClientRegistration } from './oauth/closed-client-registration.js';
import type { opsEndpoints } from './ops/health.js';
import type { sitePages } from './site/pages.js';

/** What the table is built from: the steps, made by src/app.ts from the server's parts. */
export interface RouteSteps {
  mcp: ReturnType<typeof mcpSteps>;
  metadata: Middleware;
  ops: ReturnType<typeof opsEndpoints>;
  site: ReturnType<typeof sitePages>;
  seed: { register: Middleware; login: Middleware; callback: Middleware };
  interaction: InteractionSteps;
  account: ConnectedAppsSteps;
  provider: Middleware;
  /** Uncounts a client request that did not fail on the client's credentials (src/limits/client-errors.ts). */
  clientRequestPassed: AfterStep;
  clientRegistrationOpen: boolean;
}

/**
 * Every route of the server, in the order requests are matched: its methods, its path, and the steps a request
 * goes through, the last of which answers. The Koa app (src/http/route-table.ts), the 405 answers with their Allow
 * header and the route label of the metrics and log lines are all derived from it. `npm run routes` prints it.
 *
 * What is not here happens inside the provider, keyed on the route it chose (ctx.oidc.route): the limits on client
 * lookups, client registrations, device codes and anonymous records (src/limits/), parameter sizes, redirect rules
 * (src/oauth/), and SpendLast's held writes (adapters/spend-last.ts). src/app.ts installs them.
 */
export function routeTable(s: RouteSteps): RouteTable {
  const form = [htmlErrors, sameOriginPost] as const;
  const pageOrJsonForm = [pageOrJsonErrors, sameOriginPost, noStore] as const;
  const { interaction: i, account: a } = s;
  return {
    routes: [
      // The MCP resource server first: the hot path. Its URLs are matched exactly, as resource indicators are.
      ...PRM_PATHS.map((path) => ({ methods: 'any' as const, path, exact: true, steps: [s.mcp.metadataCors, s.metadata] })),
      {
        methods: 'any', path: MCP_PATH, exact: true,
        steps: [s.mcp.mcpCors, s.mcp.jsonRpcErrors, s.mcp.originCheck, s.mcp.bearer, s.mcp.postOnly, s.mcp.body, s.mcp.scopes, s.mcp.serve],
      },

      { methods: ['GET'], path: '/assets/:file', steps: [assets()] },
      { methods: ['GET'], path: '/healthz', steps: [s.ops.healthz] },
      { methods: ['GET'], path: '/readyz', steps: [s.ops.readyz] },
      { methods: ['GET'], path: '/metrics', unlisted: true, steps: [s.ops.metrics] },

      // The site's pages, and the JSON API to register and sign in.
      { methods: ['GET'], path: '/', steps: [noStore, s.site.home] },
      { methods: ['GET'], path: '/signup', steps: [htmlErrors, noStore, s.site.signupPage] },
      { methods: ['POST'], path: '/signup', steps: [...form, noStore, s.site.signup] },
      { methods: ['POST'], path: '/oauth/register', steps: [s.seed.register] },
      { methods: ['POST'], path: '/oauth/login', steps: [s.seed.login] },
      { methods: ['GET'], path: '/callback', steps: [htmlErrors, s.seed.callback] },

      // The provider's interactions: sign-in, registration and consent pages of an authorization request.
      { methods: ['GET'], path: '/interaction/:uid', steps: [htmlErrors, i.load, i.page] },
      { methods: ['POST'], path: '/interaction/:uid/login', steps: [...form, i.load, i.login] },
      { methods: ['GET'], path: '/interaction/:uid/register', steps: [htmlErrors, i.load, i.registerPage] },
      { methods: ['POST'], path: '/interaction/:uid/register', steps: [...form, i.load, i.register] },
      { methods: ['POST'], path: '/interaction/:uid/consent', steps: [...form, i.load, i.consent] },
      { methods: ['POST'], path: '/interaction/:uid/deny', steps: [...form, i.load, i.deny] },
      { methods: ['POST'], path: '/interaction/:uid/abort', steps: [...form, i.load, i.abort] },

      // The signed-in user's account: connected apps, and the account's own changes; pages, or JSON for scripts.
      { methods: ['GET'], path: '/account', steps: [pageOrJsonErrors, noStore, a.page] },
      { methods: ['POST'], path: '/account/sign-in', steps: [...form, a.signIn] },
      { methods: ['POST'], path: '/account/apps/:clientId/revoke', steps: [...pageOrJsonForm, a.revoke] },
      { methods: ['POST'], path: '/account/password', steps: [...pageOrJsonForm, a.changePassword] },
      { methods: ['POST'], path: '/account/sign-out-everywhere', steps: [...pageOrJsonForm, a.signOutEverywhere] },
      { methods: ['POST'], path: '/account/delete', steps: [...pageOrJsonForm, a.deleteAccount] },
    ],
    provider: {
      serve: s.provider,
      endpoints: [
        { route: 'discovery', methods: ['GET'], path: '/.well-known/openid-configuration' },
        { route: 'discovery', methods: ['GET'], path: '/.well-known/oauth-authorization-server' },
        // GET only at authorization and end_session: oidc-provider 9 serves POST there only with enableHttpPostMethods.
        { route: 'authorization', methods: ['GET'], path: ROUTES.authorization },
        { route: 'resume', methods: ['GET'], path: `${ROUTES.authorization}/:uid` },
        { route: 'pushed_authorization_request', methods: ['POST'], path: ROUTES.pushed_authorization_request, after: [s.clientRequestPassed] },
        { route: 'token', methods: ['POST'], path: ROUTES.token, after: [s.clientRequestPassed] },
        { route: 'userinfo', methods: ['GET', 'POST'], path: ROUTES.userinfo },
        { route: 'jwks', methods: ['GET'], path: ROUTES.jwks },
        // Its answers, errors included, carry no cache header of their own.
        { route: 'revocation', methods: ['POST'], path: ROUTES.revocation, after: [answerNotCached, s.clientRequestPassed] },
        { route: 'introspection', methods: ['POST'], path: ROUTES.introspection, after: [s.clientRequestPassed] },
        { route: 'end_session', methods: ['GET'], path: ROUTES.end_session },
        { route: 'end_session_confirm', methods: ['POST'], path: `${ROUTES.end_session}/confirm` },
        { route: 'end_session_success', methods: ['GET'], path: `${ROUTES.end_session}/success` },
        {
          // Browser-based hosts call the registration_endpoint that discovery advertises. CORS only grants: another
          // spelling of the path gets no grant, and the registration limit keys on the route (src/limits/).
          route: 'registration', methods: ['POST', 'OPTIONS'], path: ROUTES.registration,
          before: [
            cors({ methods: ['POST'], exposeHeaders: ['Retry-After'] }),
            ...(s.clientRegistrationOpen ? [] : [refuseClientRegistration]),
          ],
        },
        { route: 'client', methods: ['GET'], path: `${ROUTES.registration}/:clientId` },
        { route: 'device_authorization', methods: ['POST'], path: ROUTES.device_authorization, after: [s.clientRequestPassed] },
        { route: 'code_verification', methods: ['GET', 'POST'], path: ROUTES.code_verification },
        { route: 'device_resume', methods: ['GET'], path: `${ROUTES.code_verification}/:uid` },
      ],
    },
  };
}
