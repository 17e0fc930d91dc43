import { randomUUID } from 'node:crypto';

/** What a log line and a response header can carry as it is: 1 to 128 letters, digits and . _ : - */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * How a request's id is chosen from its X-Request-Id ('' when absent). Any caller can write that header, and an id
 * chosen by the caller could pose as another request's in the logs: it is kept only behind a proxy (TRUST_PROXY),
 * whose own id ties its logs to ours, and even then only when well-formed. Every other request gets an id of ours.
 */
export function requestIds(trustIncoming: boolean): (incoming: string) => string {
  if (!trustIncoming) return () => randomUUID();
  return (incoming) => (WELL_FORMED.test(incoming) ? incoming : randomUUID());
}
