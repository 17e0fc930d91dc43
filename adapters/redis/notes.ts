import type { Result } from 'ioredis';
import { isNoteId, newNoteId, type Note, type NotesStore } from '../stores.js';
import { guarded, type RedisClient } from './client.js';
import { DurableWrites } from './durable-writes.js';

/* P notes:{<accountId>}       hash: note id → JSON {id, text, createdAt, seq}; nothing but notes, so no id a
 *                             caller sends can reach anything else, and HLEN is the number of notes.
 * P notes-seq:{<accountId>}   the user's counter, which keeps insertion order (several notes can share a
 *                             millisecond). The same hash tag puts both keys in one slot, for the script.
 * Hashes written before the counter had its own key hold it in a LEGACY_SEQ_FIELD field: the next add moves it. */

declare module 'ioredis' {
  interface RedisCommander<Context> {
    notesAdd(key: string, seqKey: string, id: string, json: string, limit: string): Result<number, Context>;
  }
}

const LEGACY_SEQ_FIELD = '#seq';

// Returns the note's sequence number, or 0 when the user is at the limit.
const ADD = `
  local legacy = redis.call('HGET', KEYS[1], '${LEGACY_SEQ_FIELD}')
  if legacy then
    if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], legacy) end
    redis.call('HDEL', KEYS[1], '${LEGACY_SEQ_FIELD}')
  end
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
  local seq = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], ARGV[1], string.format('{"seq":%d,%s', seq, string.sub(ARGV[2], 2)))
  return seq`;

type StoredNote = Note & { seq: number };

export class RedisNotesStore implements NotesStore {
  constructor(private readonly redis: RedisClient, private readonly prefix: string, private readonly writes = new DurableWrites(redis)) {
    redis.defineCommand('notesAdd', { numberOfKeys: 2, lua: ADD });
  }

  private key = (accountId: string) => `${this.prefix}notes:{${accountId}}`;
  private seqKey = (accountId: string) => `${this.prefix}notes-seq:{${accountId}}`;

  add(accountId: string, text: string, limit: number): Promise<Note | undefined> {
    return guarded(async () => {
      const note: Note = { id: newNoteId(), text, createdAt: Date.now() };
      const [seq] = await this.writes.run((p) => p.notesAdd(this.key(accountId), this.seqKey(accountId), note.id, JSON.stringify(note), String(limit)));
      return (seq as number) > 0 ? note : undefined;
    });
  }

  list(accountId: string): Promise<Note[]> {
    return guarded(async () => {
      const stored = await this.redis.hgetall(this.key(accountId));
      return Object.entries(stored)
        .filter(([id]) => isNoteId(id)) // skips a legacy counter field not yet moved
        .map(([, json]) => JSON.parse(json) as StoredNote)
        .sort((a, b) => a.seq - b.seq)
        .map(({ seq: _seq, ...note }) => note);
    });
  }

  delete(accountId: string, id: string): Promise<boolean> {
    return guarded(async () => isNoteId(id) && (await this.writes.run((p) => p.hdel(this.key(accountId), id)))[0] === 1);
  }

  deleteAll(accountId: string): Promise<void> {
    return guarded(async () => {
      await this.writes.run((p) => p.del(this.key(accountId), this.seqKey(accountId)));
    });
  }
}
