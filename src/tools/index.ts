import { notesAdd, notesDelete, notesList } from './notes.js';
import type { Tool } from './tool.js';
import { whoami } from './whoami.js';

/** The tools the MCP endpoint serves, in the order tools/list shows them. */
export const tools: readonly Tool[] = [whoami, notesAdd, notesList, notesDelete];
