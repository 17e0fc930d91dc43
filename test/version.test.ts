import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import ts from 'typescript';

const SOURCE = readFileSync(new URL('../src/version.ts', import.meta.url), 'utf8');

/** src/version.ts compiled to JavaScript, as a build emits it. */
const COMPILED = ts.transpileModule(SOURCE, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;

/** What plain node imports from the compiled module placed at `path` in a package laid out as `files`. */
async function versionAt(path: string, files: Record<string, string>): Promise<[string, string]> {
  const root = mkdtempSync(join(tmpdir(), 'version-'));
  for (const [file, text] of Object.entries({ ...files, [path]: COMPILED })) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  const script = `import(${JSON.stringify(join(root, path))}).then((m) => console.log(JSON.stringify([m.PACKAGE_NAME, m.VERSION])))`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: tmpdir() });
  return JSON.parse(stdout) as [string, string];
}

describe('the version the server and the CLIs report', () => {
  const packageJson = JSON.stringify({ name: 'mcp-oauth-server', version: '9.8.7', type: 'module' });

  it('comes from the package root when compiled one directory deeper (dist/src), past a package.json that only marks the module type', async () => {
    const files = { 'package.json': packageJson, 'dist/package.json': '{"type":"module"}' };
    expect(await versionAt('dist/src/version.js', files)).to.deep.equal(['mcp-oauth-server', '9.8.7']);
  });

  it('comes from the package root when run from src/', async () => {
    expect(await versionAt('src/version.js', { 'package.json': packageJson })).to.deep.equal(['mcp-oauth-server', '9.8.7']);
  });
});
