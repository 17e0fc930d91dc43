import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageJson {
  name: string;
  version: string;
}

/**
 * The package.json of this package: the nearest one above this module that names it and its version. That is the
 * package root whether this runs as src/version.ts (tsx, Bun) or compiled one directory deeper (dist/src/version.js),
 * installed or in a checkout; a package.json without them that a build may put in its output only marks the module type.
 */
function readPackageJson(): PackageJson {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<PackageJson>;
      if (typeof json.version === 'string' && typeof json.name === 'string') return { name: json.name, version: json.version };
    }
    if (dirname(dir) === dir) throw new Error(`no package.json with a version above ${fileURLToPath(import.meta.url)}`);
  }
}

const packageJson = readPackageJson();

/** The package's name, as MCP clients see it in the server's identity. */
export const PACKAGE_NAME = packageJson.name;

/** The version this code was released as (package.json): in /healthz, the MCP server's and the CLIs' identity. */
export const VERSION = packageJson.version;
