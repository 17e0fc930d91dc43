#!/usr/bin/env node
// The installed `mcp-oauth` command: the TypeScript CLI in src/cli, run through tsx as `npm start` runs the server.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
