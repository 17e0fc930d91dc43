import type { Consent, ConsentStore } from '../stores.js';

export class MemoryConsentStore implements ConsentStore {
  private readonly byAccount = new Map<string, Map<string, Consent>>();

  async remember(accountId: string, clientId: string, grantId: string): Promise<void> {
    let consents = this.byAccount.get(accountId);
    if (!consents) this.byAccount.set(accountId, (consents = new Map()));
    consents.set(clientId, { clientId, grantId, grantedAt: Date.now() });
  }

  async find(accountId: string, clientId: string): Promise<Consent | undefined> {
    const consent = this.byAccount.get(accountId)?.get(clientId);
    return consent && { ...consent };
  }

  async list(accountId: string): Promise<Consent[]> {
    return [...(this.byAccount.get(accountId)?.values() ?? [])].map((consent) => ({ ...consent }));
  }

  async forget(accountId: string, clientId: string): Promise<Consent | undefined> {
    const consent = await this.find(accountId, clientId);
    this.byAccount.get(accountId)?.delete(clientId);
    return consent;
  }
}
