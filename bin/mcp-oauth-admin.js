#!/usr/bin/env node
// The installed `mcp-oauth-admin` command: the operator's commands in src/admin.
import { launch } from './launch.js';

await launch('admin/main');
