import { z } from 'zod';
import { defineTool, toolResult } from './tool.js';

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
      `You are ${caller.username} (user id ${caller.accountId}), connected through the app ${caller.clientId} with the scopes: ${scopes}.`,
      { id: caller.accountId, username: caller.username, client_id: caller.clientId, scopes: [...caller.scopes] },
    );
  },
});
