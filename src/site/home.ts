import type { Context } from 'koa';
import { MCP_RESOURCE_SERVER, mcpResource } from '../../config/resource-server.js';
import { sendPage } from '../http/render.js';
import { resourceMetadataUrl } from '../mcp/protected-resource-metadata.js';
import type { SignedInUser } from '../oauth/signed-in-user.js';

/** What a program that asks `/` for JSON learns: where the MCP server and this server's metadata are. */
export function homeDocument(issuer: string, signupOpen: boolean) {
  return {
    issuer,
    mcp_endpoint: mcpResource(issuer),
    protected_resource_metadata: resourceMetadataUrl(issuer),
    authorization_server_metadata: `${issuer}/.well-known/oauth-authorization-server`,
    openid_configuration: `${issuer}/.well-known/openid-configuration`,
    signup: signupOpen ? 'open' : 'closed',
  };
}

/** What the home page offers, as the operator set it. */
export interface Openings {
  signupOpen: boolean;
  clientRegistrationOpen: boolean;
}

/**
 * The home page: for a visitor, the ways to sign in and (while SIGNUP is open) to create an account; for a signed-in
 * user, who they are, their connected apps and signing out; for everyone, the MCP URL to give an app, and which apps
 * can connect while Dynamic Client Registration is closed.
 */
export function sendHomePage(ctx: Context, issuer: string, openings: Openings, user: SignedInUser | undefined): Promise<void> {
  return sendPage(ctx, 'home', {
    title: MCP_RESOURCE_SERVER.name,
    issuer,
    mcpUrl: mcpResource(issuer),
    username: user?.account.username ?? '',
    ...openings,
  });
}
