import type { SandboxDirectory, SandboxResponse } from './directory';
import { ScimProblem } from './problem';

/** A request as it arrives on the wire, before the `/scim/directory/{directoryId}` prefix is taken off. */
export interface WireRequest {
  method: string;
  url: URL;
  /** The raw body text (empty or undefined when none), or an already-parsed value. */
  body: unknown;
}

const PREFIX = /^\/scim\/directory\/([^/]+)(\/.*)?$/;

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body ?? undefined;
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new ScimProblem(400, 'The request body is not valid JSON.', 'invalidSyntax');
  }
}

/**
 * Serves one wire request from the directory, the way Atlassian's front door does: an unknown
 * directory id is 404, a body that is not JSON is 400 invalidSyntax, a failure inside is 500.
 */
export function dispatch(
  directory: SandboxDirectory,
  directoryId: string,
  request: WireRequest,
): SandboxResponse {
  try {
    const match = PREFIX.exec(request.url.pathname);
    if (!match) throw new ScimProblem(404, 'Resource not found.');
    if (decodeSegment(match[1] ?? '') !== directoryId)
      throw new ScimProblem(404, 'Directory does not exist.');
    return directory.handle({
      method: request.method,
      path: match[2] ?? '',
      query: request.url.searchParams,
      body: parseBody(request.body),
      resourceBase: `${request.url.origin}/scim/directory/${encodeURIComponent(directoryId)}`,
    });
  } catch (error) {
    if (error instanceof ScimProblem) return error.toResponse();
    const message = error instanceof Error ? error.message : String(error);
    return new ScimProblem(500, `Sandbox internal error: ${message}`).toResponse();
  }
}
