import { createHash, randomBytes } from 'node:crypto';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/server';
import { DEV_CLIENT1_SECRET } from '../config/env.js';
import { Client, DEFAULT_RETRY_AFTER_S, GaveUp, sleep, type Reply } from './client.js';
import type { Tally } from './tally.js';

const PASSWORD = 'soak-password-1';
/** A new authorization after one failed on storage, at most this many times in a row. */
const AUTHORIZATION_ATTEMPTS = 10;
const MAX_HOPS = 10;
/** The tool's answer while storage is away (adapters/errors.ts): a result, not an HTTP status, so no Retry-After. */
const STORAGE_AWAY = /cannot reach its storage/;

/** A step of the redirect chain, named without its ids. */
const stepName = (path: string) => path.replace(/\?.*$/, '').replace(/^\/(oauth\/authorize|interaction)\/[^/]+/, '/$1/:uid');

/**
 * client1 is confidential: its refresh tokens rotate only past 70% of their 14 days, i.e. never in a soak.
 * mcp-cli is public (PKCE): every refresh rotates, and the chain is what a retried refresh must not break.
 */
export type ClientId = 'client1' | 'mcp-cli';

/** One grant's tokens as the user holds them: the latest of each, the refresh token carried from rotation to rotation. */
export interface Chain {
  client: ClientId;
  refreshToken: string;
  accessToken: string;
  refreshes: number;
  rotations: number;
  /** Why it stopped working, if it did. */
  dead?: string;
}

interface TokenSet {
  access_token: string;
  refresh_token: string;
}

interface ToolAnswer {
  result?: { isError?: boolean; content?: { text: string }[]; structuredContent?: { id?: string; notes?: { id: string; text: string }[] } };
  error?: { message: string };
}

/** An answer in a line: a page's title and heading, or the start of anything else. */
function gist(text: string): string {
  if (!text.startsWith('<')) return text.slice(0, 200);
  const title = /<title>([^<]*)/.exec(text)?.[1];
  const heading = /<h1[^>]*>([^<]*)/.exec(text)?.[1];
  return `page "${title}"${heading && heading !== title ? `, "${heading}"` : ''}`;
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * A person with an account and the apps they signed in to: signs up, signs in (a browser session), authorizes a
 * client (register → login → authorize → code → token, with resource=/mcp so the token works there), refreshes,
 * and adds and lists notes over MCP. Remembers what the server acknowledged, for the checks at the end.
 */
export class SimulatedUser {
  readonly client: Client;
  /** Note id → text, for every notes_add the server answered with success. */
  readonly notes = new Map<string, string>();
  readonly chains: Chain[] = [];
  signedUp = false;
  private added = 0;
  private rpcId = 0;

  constructor(readonly username: string, private readonly base: string, private readonly tally: Tally) {
    this.client = new Client(base, tally);
  }

  get latest(): Chain | undefined {
    return this.chains.at(-1);
  }

  async signUp(): Promise<void> {
    const reply = await this.client.send('sign-up', '/oauth/register', json({ username: this.username, password: PASSWORD }));
    if (reply.status === 409 && (reply.after503 || reply.uncertain)) this.tally.explain('sign-up retried: 409, the first attempt had stored the account');
    else if (reply.status !== 201) return this.fail('sign-up', reply);
    this.signedUp = true;
  }

  /** A new browser session: POST /oauth/login sets its cookie. */
  async signIn(op = 'login'): Promise<void> {
    this.client.forget();
    const reply = await this.client.send(op, '/oauth/login', json({ username: this.username, password: PASSWORD }));
    if (reply.status !== 200) this.fail(op, reply);
  }

  /** The browser follows /oauth/authorize to client1's callback and the app exchanges the code: a new chain. */
  async authorize(client: ClientId): Promise<void> {
    for (let attempt = 1; attempt <= AUTHORIZATION_ATTEMPTS; attempt++) {
      const { verifier, challenge } = pkce();
      const params = new URLSearchParams({
        client_id: client, redirect_uri: `${this.base}/callback`, response_type: 'code', state: 'soak', resource: `${this.base}/mcp`,
        ...(client === 'mcp-cli' && { code_challenge: challenge, code_challenge_method: 'S256' }),
      });
      const code = await this.followToCode(`/oauth/authorize?${params}`);
      if (code === undefined) continue;
      const reply = await this.client.send('token:code', '/oauth/token', form({
        grant_type: 'authorization_code', code, redirect_uri: `${this.base}/callback`, client_id: client,
        ...(client === 'client1' ? { client_secret: DEV_CLIENT1_SECRET } : { code_verifier: verifier }),
      }));
      if (reply.status === 200) {
        if (reply.after503) this.tally.explain('code exchange retried after 503: succeeded');
        const tokens = JSON.parse(reply.text) as TokenSet;
        this.chains.push({ client, refreshToken: tokens.refresh_token, accessToken: tokens.access_token, refreshes: 0, rotations: 0 });
        return;
      }
      // Its answer lost to an instance's death, the first exchange may have spent the code: the retry is a replay.
      if (reply.status === 400 && reply.uncertain && !reply.after503) {
        this.tally.explain('code exchange answer lost (502 cut): the retry is refused as a replay; new authorization');
        continue;
      }
      return this.fail('token:code', reply);
    }
    this.tally.problem('authorize', `no code after ${AUTHORIZATION_ATTEMPTS} authorizations`);
  }

  /**
   * The redirect chain from /oauth/authorize to the callback; the code, or undefined when storage failed it in a way
   * that needs a new authorization. A step answered 503 is reloaded after its Retry-After, as the README's "Retrying
   * after 503" says a browser may: the session and the sign-in in progress are kept, so the reload goes on.
   */
  private async followToCode(start: string): Promise<string | undefined> {
    let path = start;
    let reloads = 0;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const reply = await this.client.send('authorize', path, {}, { retry503: false });
      if (reply.status === 503) {
        if (++reloads > AUTHORIZATION_ATTEMPTS) return undefined;
        this.tally.explain(`authorization step ${stepName(path)} answered 503: reloaded after Retry-After`);
        await sleep(1000 * (Number(reply.headers.get('retry-after')) || DEFAULT_RETRY_AFTER_S));
        hop--;
        continue;
      }
      if (reply.status < 300 || reply.status >= 400) {
        if (reply.uncertain) {
          this.tally.explain('authorization step answer lost (502 cut): new authorization');
          return undefined;
        }
        return this.fail('authorize', reply);
      }
      const to = new URL(reply.headers.get('location')!, new URL(path, this.base));
      if (to.pathname !== '/callback') {
        path = to.pathname + to.search;
        continue;
      }
      const code = to.searchParams.get('code');
      if (code) return code;
      if (to.searchParams.get('error') === 'temporarily_unavailable') {
        this.tally.explain(`authorization redirected with temporarily_unavailable: new authorization after ${DEFAULT_RETRY_AFTER_S} s`);
        await sleep(1000 * DEFAULT_RETRY_AFTER_S);
        return undefined;
      }
      return this.fail('authorize', reply, `callback without a code: ${to.search}`);
    }
    return this.fail('authorize', undefined, `more than ${MAX_HOPS} redirects`);
  }

  async refresh(chain: Chain, op = 'token:refresh'): Promise<void> {
    const reply = await this.client.send(op, '/oauth/token', form({
      grant_type: 'refresh_token', refresh_token: chain.refreshToken, client_id: chain.client,
      ...(chain.client === 'client1' && { client_secret: DEV_CLIENT1_SECRET }),
    }));
    if (reply.status !== 200) {
      chain.dead = `${reply.status} ${reply.text.slice(0, 160)}${reply.after503 ? ` after ${reply.after503} 503 retries` : ''}${reply.uncertain ? ' after a cut 502' : ''}`;
      return this.fail(op, reply);
    }
    if (reply.after503) this.tally.explain(`${chain.client === 'mcp-cli' ? 'rotating' : 'non-rotating'} refresh retried after 503: succeeded`);
    if (reply.uncertain) this.tally.explain(`${chain.client === 'mcp-cli' ? 'rotating' : 'non-rotating'} refresh retried after its answer was lost (502 cut): succeeded`);
    const tokens = JSON.parse(reply.text) as TokenSet;
    chain.refreshes++;
    if (tokens.refresh_token !== chain.refreshToken) chain.rotations++;
    chain.refreshToken = tokens.refresh_token;
    chain.accessToken = tokens.access_token;
  }

  /**
   * One tools/call over /mcp with `token`; its result, after retrying the ones storage failed (a tool result that
   * says so, or a 503). Undefined when the call failed otherwise (counted as a problem).
   */
  async tool(name: string, args: Record<string, unknown>, token: string, op = `mcp:${name}`): Promise<ToolAnswer['result'] | undefined> {
    for (;;) {
      const reply = await this.client.send(op, '/mcp', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++this.rpcId, method: 'tools/call', params: { name, arguments: args } }),
      });
      if (reply.status !== 200) return this.fail(op, reply);
      const answer = JSON.parse(reply.text) as ToolAnswer;
      const text = answer.result?.content?.[0]?.text ?? answer.error?.message ?? '';
      if (answer.result?.isError && STORAGE_AWAY.test(text)) {
        this.tally.answer(op, 'storage-away', reply.upstream);
        this.tally.explain(`${name}: tool result "storage unavailable" (in a 200), retried after ${DEFAULT_RETRY_AFTER_S} s`);
        await sleep(1000 * DEFAULT_RETRY_AFTER_S);
        continue;
      }
      if (!answer.result || answer.result.isError) return this.fail(op, reply, text);
      return answer.result;
    }
  }

  async addNote(): Promise<void> {
    const text = `${this.username} note ${++this.added}`;
    const result = await this.tool('notes_add', { text }, this.latest!.accessToken);
    const id = result?.structuredContent?.id;
    if (id) this.notes.set(id, text);
  }

  /** The user's notes as the server lists them; undefined when it would not. */
  async listNotes(token = this.latest!.accessToken, op?: string): Promise<Map<string, string> | undefined> {
    const result = await this.tool('notes_list', {}, token, op);
    const listed = result?.structuredContent?.notes;
    return listed && new Map(listed.map((n) => [n.id, n.text]));
  }

  /** The acknowledged notes `listed` lacks. */
  missing(listed: Map<string, string>): string[] {
    return [...this.notes.keys()].filter((id) => !listed.has(id));
  }

  private fail(op: string, reply: Reply | undefined, detail?: string): never {
    const what = reply ? `${reply.status} from ${reply.upstream ?? '?'}: ${detail ?? gist(reply.text)}` : detail!;
    this.tally.problem(op, `${this.username}: ${what}\n    the user's last requests:\n${this.client.history()}`);
    throw new GaveUp();
  }
}
