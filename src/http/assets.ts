import { readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import type { Middleware } from 'koa';
import { packagePath } from '../package-dir.js';

const PUBLIC = packagePath('public/');
const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/** GET /assets/<file>: the few files in public/, read once at start (no path from the URL touches the disk); any other file is not there. */
export function assets(): Middleware {
  const files = new Map(readdirSync(PUBLIC)
    .filter((name) => TYPES[extname(name)])
    .map((name) => [`/assets/${name}`, { type: TYPES[extname(name)]!, body: readFileSync(`${PUBLIC}${name}`) }]));
  return async function assetFile(ctx) {
    const file = files.get(ctx.path);
    if (!file) return;
    ctx.type = file.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = file.body;
  };
}
