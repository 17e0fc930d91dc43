import type { Consent, ConsentStore } from '../stores.js';

export class MemoryConsentStore implements ConsentStore {
  private readonly byAccount = new Map<string, Map<string, Consent>>();

  async remember(accountId: string, consent: Omit<Consent, 'grantedAt'>): Promise<void> {
    let consents = this.live(accountId);
    if (!consents) this.byAccount.set(accountId, (consents = new Map()));
    consents.set(consent.clientId, structuredClone({ ...consent, grantedAt: Date.now() }));
  }

  async find(accountId: string, clientId: string): Promise<Consent | undefined> {
    const consent = this.live(accountId)?.get(clientId);
    return consent && structuredClone(consent);
  }

  async list(accountId: string): Promise<Consent[]> {
    return [...(this.live(accountId)?.values() ?? [])].map((consent) => structuredClone(consent));
  }

  async forget(accountId: string, clientId: string): Promise<Consent | undefined> {
    const consent = await this.find(accountId, clientId);
    this.live(accountId)?.delete(clientId);
    return consent;
  }

  async forgetAll(accountId: string): Promise<void> {
    this.byAccount.delete(accountId);
  }

  /** The account's consents whose grant has not ended; the others are dropped on the way, and so is an empty account. */
  private live(accountId: string): Map<string, Consent> | undefined {
    const consents = this.byAccount.get(accountId);
    if (!consents) return undefined;
    const now = Date.now();
    for (const [clientId, consent] of consents) if (consent.expiresAt <= now) consents.delete(clientId);
    if (consents.size) return consents;
    this.byAccount.delete(accountId);
    return undefined;
  }
}
