import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { DEFAULT_PARAMETER_LIMIT, PARAMETER_LIMITS, PARAMETERS_TOTAL_LIMIT } from '../../config/parameter-limits.js';
import { withholdRedirect } from './provider-internals.js';

/** The parameters oidc-provider's end_session endpoint reads (lib/actions/end_session.js); it drops any other. */
const END_SESSION_PARAMETERS = ['id_token_hint', 'post_logout_redirect_uri', 'state', 'ui_locales', 'client_id', 'logout_hint'];

const limitOf = (name: string) => (Object.hasOwn(PARAMETER_LIMITS, name) ? PARAMETER_LIMITS[name]! : DEFAULT_PARAMETER_LIMIT);

/**
 * Refuses parameters longer than config/parameter-limits.ts allows, one by one (a repeated one, as `resource` may
 * be, value by value) and all together, with invalid_request naming the parameter.
 */
function checkSizes(params: Readonly<Record<string, unknown>>): void {
  let total = 0;
  // state first: the error about any other parameter would go back to the client with it.
  const names = ['state', ...Object.keys(params).filter((name) => name !== 'state')];
  for (const name of names) {
    const limit = limitOf(name);
    for (const one of [params[name]].flat()) {
      if (one === undefined) continue;
      const { length } = String(one);
      if (length > limit) throw oversize(`${name} is too long (at most ${limit} characters)`, name === 'state');
      total += length;
    }
  }
  if (total > PARAMETERS_TOTAL_LIMIT) {
    throw oversize(`the request's parameters are too long together (at most ${PARAMETERS_TOTAL_LIMIT} characters)`, false);
  }
}

function oversize(description: string, ofState: boolean): errors.InvalidRequest {
  const err = new errors.InvalidRequest(description);
  // The provider sends an authorization error back to the client's redirect_uri with the request's state: not a
  // state this long, which it would hand on to the client as it is. The browser gets the error page instead.
  if (ofState) withholdRedirect(err);
  return err;
}

/**
 * For extraParams: every parameter the provider kept from an authorization, pushed authorization or device
 * authorization request. The provider runs extraParams' validators on each of these once its own checks passed and
 * before it stores anything of the request (the interaction, the pushed request, the device code).
 */
export function refuseOversizeParameters(ctx: KoaContextWithOIDC): void {
  checkSizes(ctx.oidc.params!);
}

/**
 * The same limits at the end_session endpoint (sign-out), which keeps its `state` in the browser's session, stored
 * even for a browser nobody signed in with; extraParams does not reach it. Its first step loads that session
 * (Session.get), before it reads anything else: parameters over their limits are refused there, so no session is
 * stored or touched. The route is the provider's own (whatever spelling of the path it took), and its parameters are
 * those of the query: the provider serves end_session by GET only unless enableHttpPostMethods is set, which this
 * server does not set.
 */
export function limitSignOutParameters(provider: Provider): void {
  const { Session } = provider;
  const get = Session.get.bind(Session);
  Session.get = async (ctx) => {
    if ((ctx as Partial<KoaContextWithOIDC>).oidc?.route === 'end_session') {
      checkSizes(Object.fromEntries(END_SESSION_PARAMETERS.map((name) => [name, ctx.query[name]])));
    }
    return get(ctx);
  };
}
