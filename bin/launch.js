// What the package's commands share: run an entry point of src/ compiled (dist/, from `npm run build`) when the
// build is there, which is all a production install has (no tsx); otherwise the TypeScript itself through tsx.
// A checkout built once keeps running that build: `npm run build` again after changing src/, or use the npm
// scripts (`npm run cli`), which always run the TypeScript.
import { existsSync } from 'node:fs';

/** `entry`: a module's path under src/ without its extension, e.g. 'cli/main'. */
export async function launch(entry) {
  const compiled = new URL(`../dist/src/${entry}.js`, import.meta.url);
  if (existsSync(compiled)) return import(compiled.href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`../src/${entry}.ts`, import.meta.url).href);
}
