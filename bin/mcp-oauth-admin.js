#!/usr/bin/env node
// The installed `mcp-oauth-admin` command: the operator's commands in src/admin, run through tsx as `npm start` runs the server.
import { register } from 'tsx/esm/api';

register();
await import('../src/admin/main.ts');
