import type { KeyVault } from '../stores.js';

/** Nothing outlives the process in memory mode: every start generates fresh key material. */
export class MemoryKeyVault implements KeyVault {
  readonly description = 'generated for this process only: sessions and tokens end when it stops';

  async loadOrCreate(_name: string, generate: () => string): Promise<string> {
    return generate();
  }
}
