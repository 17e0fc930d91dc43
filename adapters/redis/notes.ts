import { randomUUID } from 'node:crypto';
import type { Redis, Result } from 'ioredis';
import type { Note, NotesStore } from '../stores.js';
import { guarded } from './client.js';

/* P notes:{<accountId>}   hash: note id → JSON {id, text, createdAt, seq}, and SEQ_FIELD, the user's counter.
 * One key per user, so the limit is checked and applied atomically and the counter keeps insertion order
 * (several notes can share a millisecond). */

declare module 'ioredis' {
  interface RedisCommander<Context> {
    notesAdd(key: string, id: string, json: string, limit: string): Result<number, Context>;
  }
}

const SEQ_FIELD = '#seq';

// Returns the note's sequence number, or 0 when the user is at the limit (the counter field is not a note).
const ADD = `
  if redis.call('HLEN', KEYS[1]) - redis.call('HEXISTS', KEYS[1], '${SEQ_FIELD}') >= tonumber(ARGV[3]) then return 0 end
  local seq = redis.call('HINCRBY', KEYS[1], '${SEQ_FIELD}', 1)
  redis.call('HSET', KEYS[1], ARGV[1], string.format('{"seq":%d,%s', seq, string.sub(ARGV[2], 2)))
  return seq`;

type StoredNote = Note & { seq: number };

export class RedisNotesStore implements NotesStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {
    redis.defineCommand('notesAdd', { numberOfKeys: 1, lua: ADD });
  }

  private key = (accountId: string) => `${this.prefix}notes:{${accountId}}`;

  add(accountId: string, text: string, limit: number): Promise<Note | undefined> {
    return guarded(async () => {
      const note: Note = { id: randomUUID(), text, createdAt: Date.now() };
      const seq = await this.redis.notesAdd(this.key(accountId), note.id, JSON.stringify(note), String(limit));
      return seq > 0 ? note : undefined;
    });
  }

  list(accountId: string): Promise<Note[]> {
    return guarded(async () => {
      const { [SEQ_FIELD]: _counter, ...stored } = await this.redis.hgetall(this.key(accountId));
      return Object.values(stored)
        .map((json) => JSON.parse(json) as StoredNote)
        .sort((a, b) => a.seq - b.seq)
        .map(({ seq: _seq, ...note }) => note);
    });
  }

  delete(accountId: string, id: string): Promise<boolean> {
    return guarded(async () => (await this.redis.hdel(this.key(accountId), id)) === 1);
  }
}
