import type { z } from 'zod';
import { invalidRequest } from './problem.js';

/** Validates wire input at the edge: the first problem becomes the error_description. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest('request body must be a JSON object');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.length === 1 ? (value as Record<PropertyKey, unknown>)[issue.path[0]!] : null;
    throw invalidRequest(issue?.code === 'invalid_type' && field === undefined
      ? `${String(issue.path[0])} is required`
      : issue?.message ?? 'invalid request');
  }
  return result.data;
}
