import { once } from 'node:events';
import net from 'node:net';
import { expect } from 'chai';
import { expectOAuthError, parseResponse, until } from './helpers/assertions.js';
import { json, postChunked, raw, uniqueName } from './helpers/seed.js';
import { useTestServer } from './helpers/server.js';

/**
 * POST /oauth/register with bad input: every refusal is a 4xx in OAuth's JSON shape {error, error_description},
 * never a 500 or a stack trace, and a refused registration stores nothing.
 */

describe('POST /oauth/register with bad input', () => {
  const server = useTestServer();
  let endpoint: string;
  before(() => {
    endpoint = `${server.url}/oauth/register`;
  });

  const register = (username: unknown, password: unknown) => fetch(endpoint, json({ username, password }));
  const login = (username: string, password: string) => fetch(`${server.url}/oauth/login`, json({ username, password }));

  async function expectRegistered(res: Response) {
    const text = await res.text();
    expect(res.status, text).to.equal(201);
    const body = JSON.parse(text);
    expect(body.message).to.equal('Registration successful');
    expect(body.userId).to.be.a('string').and.not.be.empty;
    return body as { userId: string };
  }

  describe('the body', () => {
    it('malformed JSON → 400 invalid_request', async () => {
      const body = await expectOAuthError(await fetch(endpoint, raw('{"username": "abc", "password": ', 'application/json')), 400, 'invalid_request');
      expect(body.error_description).to.match(/JSON/);
    });

    it('an empty body → 400 invalid_request', async () => {
      await expectOAuthError(await fetch(endpoint, raw('', 'application/json')), 400, 'invalid_request');
    });

    it('a body that is not UTF-8 → 400 invalid_request', async () => {
      await expectOAuthError(await fetch(endpoint, raw(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'application/json')), 400, 'invalid_request');
    });

    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      it(`Content-Type ${contentType} → 415`, async () => {
        const body = await expectOAuthError(
          await fetch(endpoint, raw(JSON.stringify({ username: uniqueName('ct'), password: 'password123' }), contentType)), 415, 'invalid_request',
        );
        expect(body.error_description).to.include('application/json');
      });
    }

    it('no Content-Type at all → 415', async () => {
      await expectOAuthError(await fetch(endpoint, raw(new TextEncoder().encode('{"username":"nocontenttype","password":"password123"}'))), 415, 'invalid_request');
    });

    it('multipart/form-data → 415', async () => {
      const formData = new FormData();
      formData.set('username', 'multipart');
      formData.set('password', 'password123');
      await expectOAuthError(await fetch(endpoint, { method: 'POST', body: formData }), 415, 'invalid_request');
    });

    it('Content-Type application/json; charset=utf-8 is accepted', async () => {
      await expectRegistered(await fetch(endpoint, raw(JSON.stringify({ username: uniqueName('charset'), password: 'password123' }), 'application/json; charset=utf-8')));
    });

    it('a body of exactly 16 KiB is read; one byte more (with a Content-Length) → 413', async () => {
      const username = uniqueName('limit');
      const exact = JSON.stringify({ username, password: 'password123' }).padEnd(16 * 1024, ' ');
      expect(Buffer.byteLength(exact)).to.equal(16384);
      await expectOAuthError(await fetch(endpoint, raw(`${exact} `, 'application/json')), 413, 'invalid_request');
      await expectRegistered(await fetch(endpoint, raw(exact, 'application/json')));
    });

    it('a 1 MiB body with a Content-Length → 413', async () => {
      await expectOAuthError(await fetch(endpoint, raw(new Uint8Array(1024 * 1024).fill(0x20), 'application/json')), 413, 'invalid_request');
    });

    it('a chunked body (no Content-Length) over 16 KiB → 413', async () => {
      const piece = 'x'.repeat(8 * 1024);
      const res = await postChunked(endpoint, [`{"username":"${uniqueName('chunked')}","password":"`, piece, piece, piece, '"}']);
      expect(res.status, res.body).to.equal(413);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(JSON.parse(res.body)).to.have.all.keys('error', 'error_description');
      expect(JSON.parse(res.body).error).to.equal('invalid_request');
    });

    it('a small chunked body is read normally', async () => {
      const res = await postChunked(endpoint, [`{"username":"${uniqueName('chunked')}",`, '"password":"password123"}']);
      expect(res.status, res.body).to.equal(201);
    });

    it('after refusing a large chunked body, the connection is drained or closed, not left hanging', async () => {
      // A keep-alive client that sent 256 KiB gets its 413, then sends its next request on the same connection.
      // The server must either read (and discard) the rest of the refused body and answer, or close the connection.
      const { hostname, port } = new URL(server.url);
      const socket = net.connect(Number(port), hostname);
      await once(socket, 'connect');
      let received = '';
      let closed = false;
      socket.on('error', () => {});
      socket.on('data', (d: Buffer) => { received += d.toString('latin1'); });
      socket.on('close', () => { closed = true; });
      try {
        socket.write(`POST /oauth/register HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
        const chunk = 'x'.repeat(16 * 1024);
        for (let i = 0; i < 16; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        socket.write('0\r\n\r\n');

        expect(await until(() => parseResponse(received) !== undefined, 2000), 'no response to the oversized body').to.equal(true);
        const first = parseResponse(received)!;
        expect(first.status).to.equal(413);
        expect(JSON.parse(first.body).error).to.equal('invalid_request');

        if (/\r\nconnection:\s*close/i.test(first.head)) {
          expect(await until(() => closed, 2000), 'the server announced Connection: close but kept the connection open').to.equal(true);
        } else {
          const consumed = received.length - first.rest.length;
          socket.write(`GET /no-such-page HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
          await until(() => parseResponse(received.slice(consumed)) !== undefined || closed, 2000);
          const second = parseResponse(received.slice(consumed));
          expect(second !== undefined || closed,
            'after the 413 the server neither answered the next request on the kept-alive connection nor closed it').to.equal(true);
          if (second) expect(second.status).to.equal(404);
        }
      } finally {
        socket.destroy();
      }
    });

    for (const [label, body] of [['an array', '[]'], ['a string', '"alice"'], ['null', 'null'], ['a number', '42'], ['true', 'true']] as const) {
      it(`a body that is ${label} → 400 invalid_request`, async () => {
        const res = await expectOAuthError(await fetch(endpoint, raw(body, 'application/json')), 400, 'invalid_request');
        expect(res.error_description).to.equal('request body must be a JSON object');
      });
    }

    it('deeply nested JSON → 400, not a crash', async () => {
      const deep = `{"username":${'['.repeat(5000)}${']'.repeat(5000)},"password":"password123"}`;
      await expectOAuthError(await fetch(endpoint, raw(deep, 'application/json')), 400, 'invalid_request');
    });
  });

  describe('username and password fields', () => {
    it('{} → 400 "username is required"', async () => {
      const body = await expectOAuthError(await fetch(endpoint, json({})), 400, 'invalid_request');
      expect(body.error_description).to.equal('username is required');
    });

    it('a missing password → 400 "password is required"', async () => {
      const body = await expectOAuthError(await fetch(endpoint, json({ username: uniqueName('nopw') })), 400, 'invalid_request');
      expect(body.error_description).to.equal('password is required');
    });

    it('a missing username → 400 "username is required"', async () => {
      const body = await expectOAuthError(await fetch(endpoint, json({ password: 'password123' })), 400, 'invalid_request');
      expect(body.error_description).to.equal('username is required');
    });

    for (const value of [null, 42, true, ['alice'], { name: 'alice' }]) {
      it(`a username of ${JSON.stringify(value)} → 400 invalid_request`, async () => {
        await expectOAuthError(await register(value, 'password123'), 400, 'invalid_request');
      });
      it(`a password of ${JSON.stringify(value)} → 400 invalid_request`, async () => {
        await expectOAuthError(await register(uniqueName('pwtype'), value), 400, 'invalid_request');
      });
    }

    it('a username that is present but not a string is described as such, not as missing', async () => {
      for (const value of [42, true, ['alice']]) {
        const body = await expectOAuthError(await register(value, 'password123'), 400, 'invalid_request');
        expect(body.error_description, `username ${JSON.stringify(value)}`).to.equal('username must be a string');
      }
      const body = await expectOAuthError(await register(uniqueName('pwtype'), 12345678), 400, 'invalid_request');
      expect(body.error_description, 'password 12345678').to.equal('password must be a string');
    });
  });

  describe('username rules', () => {
    const refused = [
      ['empty', ''],
      ['too short (2)', 'ab'],
      ['too long (65)', 'a'.repeat(65)],
      ['with a space', 'ali ce'],
      ['with a leading space', ' alice'],
      ['with "@"', 'alice@example.com'],
      ['with unicode letters', 'ünïcödé'],
      ['in Cyrillic', 'пользователь'],
      ['with an emoji', 'alice😀'],
      ['with a trailing newline', 'alice\n'],
      ['with a NUL', 'ali\u0000ce'],
      ['with "/"', 'a/b/c'],
      ['with HTML', '<b>alice</b>'],
    ] as const;
    for (const [label, username] of refused) {
      it(`${label} → 400 invalid_request naming the rule`, async () => {
        const body = await expectOAuthError(await register(username, 'password123'), 400, 'invalid_request');
        expect(body.error_description).to.match(/^username must be 3 to 64 characters/);
      });
    }

    it('exactly 3 characters is accepted', async () => {
      await expectRegistered(await register('a_3', 'password123'));
    });

    it('exactly 64 characters is accepted', async () => {
      const name = `${'b'.repeat(60)}.-_9`;
      expect(name).to.have.length(64);
      await expectRegistered(await register(name, 'password123'));
    });
  });

  describe('password rules (counted in UTF-8 bytes)', () => {
    const refused = [
      ['empty', ''],
      ['7 bytes', '1234567'],
      ['7 bytes in 3 characters (€€a)', '€€a'],
      ['1025 bytes', 'p'.repeat(1025)],
      ['1026 bytes in 342 characters (342 × €)', '€'.repeat(342)],
    ] as const;
    for (const [label, password] of refused) {
      it(`${label} → 400 invalid_request`, async () => {
        const body = await expectOAuthError(await register(uniqueName('pw'), password), 400, 'invalid_request');
        expect(body.error_description).to.equal('password must be 8 to 1024 bytes');
      });
    }

    const accepted = [
      ['8 bytes', '12345678'],
      ['1024 bytes', 'p'.repeat(1024)],
      ['12 bytes in 4 characters (4 × €)', '€'.repeat(4)],
    ] as const;
    it('a lone surrogate (not valid Unicode, so argon2 would hash a replacement character) → 400', async () => {
      const body = await expectOAuthError(await register(uniqueName('pw'), 'abcdefg\ud800'), 400, 'invalid_request');
      expect(body.error_description).to.equal('password must be valid Unicode text');
    });

    it('a password that only matches after lossy encoding does not log in', async () => {
      const username = uniqueName('pw');
      await expectRegistered(await register(username, 'abcdefg\ufffd'));
      expect((await login(username, 'abcdefg\ud800')).status).to.equal(400);
    });

    for (const [label, password] of accepted) {
      it(`${label} is accepted, and logs in`, async () => {
        const username = uniqueName('pw');
        await expectRegistered(await register(username, password));
        expect((await login(username, password)).status).to.equal(200);
      });
    }
  });

  describe('duplicates', () => {
    it('the same username twice → 409 username_taken', async () => {
      const username = uniqueName('dup');
      await expectRegistered(await register(username, 'password123'));
      const body = await expectOAuthError(await register(username, 'password123'), 409, 'username_taken');
      expect(body.error_description).to.be.a('string');
    });

    it('uniqueness ignores letter case: "Alice…" then "alice…" and "ALICE…" → 409', async () => {
      const username = uniqueName('Alice');
      await expectRegistered(await register(username, 'password123'));
      await expectOAuthError(await register(username.toLowerCase(), 'password456'), 409, 'username_taken');
      await expectOAuthError(await register(username.toUpperCase(), 'password789'), 409, 'username_taken');
    });

    it('a refused duplicate does not touch the existing account: only the first password logs in', async () => {
      const username = uniqueName('Keep');
      await expectRegistered(await register(username, 'first-password'));
      await expectOAuthError(await register(username.toLowerCase(), 'second-password'), 409, 'username_taken');
      expect((await login(username, 'first-password')).status).to.equal(200);
      expect((await login(username, 'second-password')).status).to.equal(401);
    });

    it('two concurrent registrations of one name (in different case): exactly one wins, the other gets 409', async () => {
      const username = uniqueName('Race');
      const [a, b] = await Promise.all([register(username, 'password-a1'), register(username.toLowerCase(), 'password-b2')]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).to.deep.equal([201, 409]);
      const winner = a.status === 201 ? 'password-a1' : 'password-b2';
      const loser = a.status === 201 ? 'password-b2' : 'password-a1';
      expect((await login(username, winner)).status).to.equal(200);
      expect((await login(username, loser)).status).to.equal(401);
    });
  });

  describe('nothing is stored half-way', () => {
    it('after a refused password the username is still free (and never logged in)', async () => {
      const username = uniqueName('free');
      await expectOAuthError(await register(username, 'short'), 400, 'invalid_request');
      expect((await login(username, 'short')).status).to.equal(401);
      await expectRegistered(await register(username, 'password123'));
    });

    it('after a 413 and a 415 the username is still free', async () => {
      const username = uniqueName('free');
      const oversized = JSON.stringify({ username, password: 'p'.repeat(17 * 1024) });
      await expectOAuthError(await fetch(endpoint, raw(oversized, 'application/json')), 413, 'invalid_request');
      await expectOAuthError(await fetch(endpoint, raw(JSON.stringify({ username, password: 'password123' }), 'text/plain')), 415, 'invalid_request');
      await expectRegistered(await register(username, 'password123'));
    });
  });

  describe('other methods', () => {
    it('GET /oauth/register → 405 with a JSON body and Allow: POST', async () => {
      const res = await fetch(endpoint);
      expect(res.headers.get('allow')).to.include('POST');
      await expectOAuthError(res, 405, 'invalid_request');
    });

    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      it(`${method} /oauth/register → 405 with a JSON body`, async () => {
        await expectOAuthError(await fetch(endpoint, { method, headers: { 'content-type': 'application/json' }, body: '{}' }), 405, 'invalid_request');
      });
    }
  });
});
