import { ConfigError } from './config';
import { MapperError, ProfileError } from './iam';
import { ScimRequestError } from './scim/errors';
import { InvalidUserIdError } from './scim/user-id';
import { AuditUnavailableError } from './store/unavailable';
import { SetupError } from './wiring';

/** The CLI's exit statuses, shared by every subcommand. */
export const EXIT = { success: 0, failure: 1, badInput: 2, interrupted: 130 } as const;

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Tells the person at the terminal what went wrong and returns the exit status: 2 for bad input or
 * configuration (nothing was sent), 1 for a failed request or an unexpected error. Messages come from
 * our own errors, which never carry secrets.
 */
export function reportCliError(
  error: unknown,
  err: (text: string) => void,
  prefix: string,
  moreInputErrors: readonly ErrorClass[] = [],
): number {
  if (error instanceof ConfigError) {
    err(`${prefix}: the configuration is invalid:\n${error.problems.map((p) => `  ${p}`).join('\n')}\n`);
    return EXIT.badInput;
  }
  const inputErrors: readonly ErrorClass[] = [
    ProfileError,
    MapperError,
    SetupError,
    InvalidUserIdError,
    ...moreInputErrors,
  ];
  if (inputErrors.some((kind) => error instanceof kind)) {
    err(`${prefix}: ${(error as Error).message}\n`);
    return EXIT.badInput;
  }
  if (error instanceof ScimRequestError || error instanceof AuditUnavailableError) {
    err(`${prefix}: ${error.message}\n`);
    return EXIT.failure;
  }
  err(`${prefix}: unexpected error: ${(error as Error).message ?? String(error)}\n`);
  return EXIT.failure;
}
