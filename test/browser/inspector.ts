import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { freePort } from '../helpers/redis.js';
import { nodeLts } from '../hosts/helpers.js';
import { signInOnPage } from './flows.js';

/**
 * The MCP Inspector of npm (@modelcontextprotocol/inspector 2.x), its web UI: a Node backend that makes the MCP
 * connections and the OAuth requests, and a React page. It needs Node 22.19 or later, so it runs on the Node LTS
 * from npm (test/hosts/helpers.ts).
 */

const LAUNCHER = createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector/clients/launcher/build/index.js');

export interface Inspector {
  /** The page to open, with the token its backend requires of the browser. */
  url: string;
  /** What it printed so far, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

/**
 * Starts `mcp-inspector --web` on free ports, with a home of its own (its catalog of servers lives there) and its
 * secrets in memory only, and waits until it says it is up. 2.x takes its settings from the environment: CLIENT_PORT
 * for the UI (a fixed port: it derives its allowed origins from it), MCP_SANDBOX_PORT and MCP_APP_ORIGIN_PORT for the
 * MCP Apps frames, MCP_INSPECTOR_API_TOKEN for the token the page must present to the backend.
 */
export async function startInspector(): Promise<Inspector> {
  const node = await nodeLts();
  const home = await mkdtemp(join(tmpdir(), 'inspector-'));
  const [port, sandbox, appOrigin] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(16).toString('hex');
  const child = spawn(node, [LAUNCHER, '--web'], {
    env: {
      PATH: process.env.PATH, HOME: home, MCP_STORAGE_DIR: join(home, 'storage'),
      CLIENT_PORT: String(port), MCP_SANDBOX_PORT: String(sandbox), MCP_APP_ORIGIN_PORT: String(appOrigin),
      MCP_INSPECTOR_API_TOKEN: token, MCP_INSPECTOR_SECRET_STORE: 'memory', MCP_AUTO_OPEN_ENABLED: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Inspector did not start within 30 s:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('MCP Inspector Web is up and running')) { clearTimeout(timer); resolve(); }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the Inspector exited (${code}):\n${output}`)); });
  });
  return {
    url: `http://127.0.0.1:${port}/?MCP_INSPECTOR_API_TOKEN=${token}`,
    output: () => output,
    async close() {
      child.kill();
      await exited;
      await rm(home, { recursive: true, force: true });
    },
  };
}

/**
 * What a person does in the Inspector: Add Servers → + Add manually, a Streamable HTTP server at `mcpUrl`, switch it
 * on; the Inspector sends the same tab to our sign-in and consent pages, and back. Returns the protocol revision the
 * server card shows once connected.
 */
export async function addAndConnect(page: Page, inspector: Inspector, mcpUrl: string, user: { username: string; password: string }) {
  await page.goto(inspector.url);
  await page.getByRole('button', { name: 'Add Servers' }).click();
  await page.getByRole('menuitem', { name: '+ Add manually' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add server' });
  await dialog.getByRole('textbox', { name: 'Server ID' }).fill('notes');
  await dialog.getByRole('textbox', { name: 'Transport' }).click();
  await page.getByRole('option', { name: 'streamable-http' }).click();
  await dialog.getByRole('textbox', { name: 'URL' }).fill(mcpUrl);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
  // The input under Mantine's drawn switch: check() clicks it and fails unless it turned on.
  await page.getByRole('switch', { name: 'Connect or disconnect "notes"' }).check({ force: true });

  await signInOnPage(page, user);
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((url) => url.origin === new URL(inspector.url).origin);
  const card = page.getByRole('main');
  await card.getByText('Connected', { exact: true }).waitFor();
  const revision = /^MCP (\S+)$/.exec((await card.getByText(/^MCP \d{4}-\d\d-\d\d$/).textContent()) ?? '')?.[1];
  expect(revision, 'the revision on the server card').to.be.a('string');
  return revision!;
}

/** Tools tab: waits for each of `tools` in the list, then whoami → Execute Tool; returns the result's text. */
export async function callWhoami(page: Page, tools: string[]) {
  await page.getByRole('banner').getByText('Tools', { exact: true }).click();
  const main = page.getByRole('main');
  // Each entry is a button named by the tool's title, then its name.
  for (const name of tools) await main.getByRole('button', { name: new RegExp(` ${name}$`) }).waitFor();
  await main.getByRole('button', { name: 'Who am I whoami' }).click();
  await main.getByRole('button', { name: 'Execute Tool' }).click();
  await main.getByRole('heading', { name: 'Results' }).waitFor();
  return (await main.getByText(/^You are /).textContent()) ?? '';
}
