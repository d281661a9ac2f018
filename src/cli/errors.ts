import { ConfigError, problemsText } from '../config';
import { MapperError, ProfileError } from '../iam';
// The error class only: src/policy/types.ts loads no YAML parser.
import { formatProblem, PolicyError } from '../policy/types';
import { ScimRequestError } from '../scim/errors';
import { InvalidUserIdError } from '../scim/user-id';
import { AuditUnavailableError } from '../store/unavailable';
import { SetupError } from '../runtime';

/** The CLI's exit statuses, shared by every subcommand. */
export const EXIT = { success: 0, failure: 1, badInput: 2, interrupted: 130 } as const;

type ErrorClass = abstract new (...args: never[]) => Error;

/** What went wrong, as `--json` prints it: `{"error": CliFailure}`. */
export interface CliFailure {
  kind: 'input' | 'configuration' | 'request' | 'audit' | 'unexpected';
  message: string;
  /** Configuration: one line per variable. */
  problems?: string[];
}

function describe(
  error: unknown,
  moreInputErrors: readonly ErrorClass[],
): { failure: CliFailure; exit: number } {
  if (error instanceof ConfigError) {
    const failure: CliFailure = {
      kind: 'configuration',
      message: 'the configuration is invalid',
      problems: error.problems,
    };
    return { failure, exit: EXIT.badInput };
  }
  if (error instanceof PolicyError) {
    const problems = error.problems.map(formatProblem);
    const failure: CliFailure = { kind: 'configuration', message: 'IAM_POLICY_FILE is not usable', problems };
    return { failure, exit: EXIT.badInput };
  }
  const inputErrors: readonly ErrorClass[] = [
    ProfileError,
    MapperError,
    SetupError,
    InvalidUserIdError,
    ...moreInputErrors,
  ];
  if (inputErrors.some((kind) => error instanceof kind)) {
    return { failure: { kind: 'input', message: (error as Error).message }, exit: EXIT.badInput };
  }
  if (error instanceof ScimRequestError) {
    return { failure: { kind: 'request', message: error.message }, exit: EXIT.failure };
  }
  if (error instanceof AuditUnavailableError) {
    return { failure: { kind: 'audit', message: error.message }, exit: EXIT.failure };
  }
  const message = (error as Error | undefined)?.message ?? String(error);
  return { failure: { kind: 'unexpected', message: `unexpected error: ${message}` }, exit: EXIT.failure };
}

/**
 * Tells the person at the terminal what went wrong and returns the exit status: 2 for bad input or
 * configuration (nothing was sent), 1 for a failed request or an unexpected error. Messages come from
 * our own errors, which never carry secrets. With `jsonOut` (--json) the error is one JSON object
 * there, `{"error":{"kind":…,"message":…}}`, and stderr stays quiet.
 */
export function reportCliError(
  error: unknown,
  err: (text: string) => void,
  prefix: string,
  moreInputErrors: readonly ErrorClass[] = [],
  jsonOut?: (text: string) => void,
): number {
  const { failure, exit } = describe(error, moreInputErrors);
  printCliFailure(failure, err, prefix, jsonOut);
  return exit;
}

/** Prints a failure: a sentence on stderr, or with `jsonOut` (--json) `{"error": failure}` there. */
export function printCliFailure(
  failure: CliFailure,
  err: (text: string) => void,
  prefix: string,
  jsonOut?: (text: string) => void,
): void {
  if (jsonOut) {
    jsonOut(JSON.stringify({ error: failure }) + '\n');
  } else if (failure.problems) {
    err(problemsText(prefix, failure.message, failure.problems));
  } else {
    err(`${prefix}: ${failure.message}\n`);
  }
}
