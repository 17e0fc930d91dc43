import { randomUUID } from 'node:crypto';
import type { Redis, Result } from 'ioredis';
import type { Note, NotesStore } from '../stores.js';
import { guarded } from './client.js';

/* P notes:{<accountId>}   hash: note id → JSON {id, text, createdAt}; one key per user, so a user's notes
 * change together and the limit is checked and applied atomically. */

declare module 'ioredis' {
  interface RedisCommander<Context> {
    notesAdd(key: string, id: string, json: string, limit: string): Result<number, Context>;
  }
}

const ADD = `
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1`;

export class RedisNotesStore implements NotesStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {
    redis.defineCommand('notesAdd', { numberOfKeys: 1, lua: ADD });
  }

  private key = (accountId: string) => `${this.prefix}notes:{${accountId}}`;

  add(accountId: string, text: string, limit: number): Promise<Note | undefined> {
    return guarded(async () => {
      const note: Note = { id: randomUUID(), text, createdAt: Date.now() };
      const added = await this.redis.notesAdd(this.key(accountId), note.id, JSON.stringify(note), String(limit));
      return added === 1 ? note : undefined;
    });
  }

  list(accountId: string): Promise<Note[]> {
    return guarded(async () => {
      const notes = Object.values(await this.redis.hgetall(this.key(accountId))).map((json) => JSON.parse(json) as Note);
      return notes.sort((a, b) => a.createdAt - b.createdAt);
    });
  }

  delete(accountId: string, id: string): Promise<boolean> {
    return guarded(async () => (await this.redis.hdel(this.key(accountId), id)) === 1);
  }
}
