import { newNoteId, type Note, type NotesStore } from '../stores.js';

export class MemoryNotesStore implements NotesStore {
  private readonly byAccount = new Map<string, Map<string, Note>>();

  async add(accountId: string, text: string, limit: number): Promise<Note | undefined> {
    let notes = this.byAccount.get(accountId);
    if (!notes) this.byAccount.set(accountId, (notes = new Map()));
    if (notes.size >= limit) return undefined;
    const note = { id: newNoteId(), text, createdAt: Date.now() };
    notes.set(note.id, note);
    return { ...note };
  }

  async list(accountId: string): Promise<Note[]> {
    return [...(this.byAccount.get(accountId)?.values() ?? [])].map((note) => ({ ...note }));
  }

  async delete(accountId: string, id: string): Promise<boolean> {
    return this.byAccount.get(accountId)?.delete(id) ?? false;
  }

  async deleteAll(accountId: string): Promise<void> {
    this.byAccount.delete(accountId);
  }
}
