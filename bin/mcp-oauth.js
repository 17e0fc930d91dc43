#!/usr/bin/env node
// The installed `mcp-oauth` command: the CLI in src/cli.
import { launch } from './launch.js';

await launch('cli/main');
