import { z } from 'zod';
import { NOTE_ID, type Note } from '../../adapters/stores.js';
import { defineTool, toolError, toolResult } from './tool.js';

/** Limits that keep one user's notes cheap to store and to list in full. */
export const NOTE_MAX_LENGTH = 2000;
export const NOTES_PER_USER = 500;

const view = (note: Note) => ({ id: note.id, text: note.text, created_at: new Date(note.createdAt).toISOString() });

export const notesAdd = defineTool({
  name: 'notes_add',
  title: 'Add a note',
  description: `Saves a short text note for the signed-in user (1 to ${NOTE_MAX_LENGTH} characters; at most ${NOTES_PER_USER} notes per user). Returns the new note's id.`,
  inputSchema: z.object({
    text: z.string().trim().min(1, 'text must not be empty')
      .max(NOTE_MAX_LENGTH, `text must be at most ${NOTE_MAX_LENGTH} characters`)
      .describe('The note, as plain text'),
  }),
  scopes: ['notes:write'],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler({ text }, { caller, notes }) {
    const note = await notes.add(caller.accountId, text, NOTES_PER_USER);
    if (!note) {
      return toolError(`You already have ${NOTES_PER_USER} notes, the most one user may keep. Delete some with notes_delete first.`);
    }
    return toolResult(`Added note ${note.id}.`, view(note));
  },
});

export const notesList = defineTool({
  name: 'notes_list',
  title: 'List notes',
  description: "Lists the signed-in user's notes, oldest first, with their ids (needed to delete one).",
  inputSchema: z.object({}),
  scopes: ['notes:read'],
  annotations: { readOnlyHint: true, openWorldHint: false },
  async handler(_input, { caller, notes }) {
    const all = (await notes.list(caller.accountId)).map(view);
    const text = all.length
      ? [`You have ${all.length} note${all.length === 1 ? '' : 's'}:`, ...all.map((n) => `- [${n.id}] ${n.text}`)].join('\n')
      : 'You have no notes.';
    return toolResult(text, { notes: all });
  },
});

export const notesDelete = defineTool({
  name: 'notes_delete',
  title: 'Delete a note',
  description: 'Deletes one of the signed-in user\'s notes by its id (as shown by notes_list or notes_add).',
  inputSchema: z.object({
    // Only the ids the stores issue: anything else names no note, and must not reach a store's own keys.
    id: z.string().regex(NOTE_ID, 'id must be a note id as notes_add and notes_list show it (a UUID)')
      .describe('The id of the note to delete'),
  }),
  scopes: ['notes:write'],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async handler({ id }, { caller, notes }) {
    if (!(await notes.delete(caller.accountId, id))) {
      return toolError(`You have no note with the id ${id}. Use notes_list to see your notes and their ids.`);
    }
    return toolResult(`Deleted note ${id}.`, { id, deleted: true });
  },
});
