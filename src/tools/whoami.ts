import { z } from 'zod';
import { defineTool, toolResult, type Caller } from './tool.js';

/** The app as a person knows it, with its id when the name is its own claim (the id is what identifies it). */
const appName = ({ clientId, clientName }: Caller) => (clientName === clientId ? clientId : `"${clientName}" (${clientId})`);

export const whoami = defineTool({
  name: 'whoami',
  title: 'Who am I',
  description: 'Shows the signed-in user (id and username), the app connected on their behalf, and the scopes it was granted.',
  inputSchema: z.object({}),
  scopes: [],
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, { caller }) {
    const scopes = caller.scopes.join(' ') || '(none)';
    return toolResult(
      `You are ${caller.username} (user id ${caller.accountId}), connected through the app ${appName(caller)} with the scopes: ${scopes}.`,
      { id: caller.accountId, username: caller.username, client_id: caller.clientId, client_name: caller.clientName, scopes: [...caller.scopes] },
    );
  },
});
