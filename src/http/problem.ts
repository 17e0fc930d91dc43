/**
 * An error meant for the client, in OAuth's shape: `{ error, error_description }`. Thrown anywhere in our
 * routes; the error handler renders it as JSON or as the error page.
 */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    /** Seconds, sent as Retry-After (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(description);
    this.name = 'Problem';
  }

  get body() {
    return { error: this.error, error_description: this.description };
  }
}

export const invalidRequest = (description: string) => new Problem(400, 'invalid_request', description);
