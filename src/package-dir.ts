import { fileURLToPath } from 'node:url';

/**
 * The package's own directory, where views/ and public/ live. This module is src/package-dir.ts when run as
 * TypeScript (tsx, Bun) and dist/src/package-dir.js once compiled (`npm run build`): one level deeper.
 */
const compiled = import.meta.url.endsWith('.js');
const PACKAGE_DIR = new URL(compiled ? '../../' : '../', import.meta.url);

/** The absolute path of `relative` (a directory ends with '/') inside the package's directory. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(relative, PACKAGE_DIR));
}
