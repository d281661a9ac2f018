/** What the person is told when a command's first audit row cannot be written. */
export const AUDIT_UNAVAILABLE = 'The audit log is unavailable, so nothing was done.';

/**
 * The audit row that must come before an action (a command's "received" / "requested" row) could not
 * be written, so the action must not happen. Thrown by the bot's audit() and the CLI's audit.command().
 */
export class AuditUnavailableError extends Error {
  constructor(cause: unknown) {
    super(AUDIT_UNAVAILABLE, { cause });
    this.name = 'AuditUnavailableError';
  }
}
