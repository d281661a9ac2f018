import os from 'node:os';
import type { Config } from '../config';
import { type IamResult, outcomeOf, ProfileError, resultDetail, targetOf, type UserProfile } from '../iam';
import type { RowAudit } from '../bulk/runner';
import type { Logger } from '../log';
import type { NewAuditEntry, Store } from '../store/types';
import { AuditUnavailableError } from '../store/unavailable';

/** The CLI's audit rows (see RowAudit: bulk rows are written the same way), on a log it closes. */
export interface CliAudit extends RowAudit {
  /** The result row of a command refused as bad input after its command row (e.g. an empty id): `rejected`. */
  rejected(name: string, profile: UserProfile, reason: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Runs `execute` between its two audit rows: the command row first (no row, no action), then the
 * result row. The audit file is opened only here, once the input is known to be good. Bad input found
 * only by the command itself (ProfileError: nothing was sent) gets a `rejected` result row, as in Slack,
 * so no command row is left without its result.
 */
export async function auditedRun(
  openAudit: () => Promise<CliAudit>,
  name: string,
  profile: UserProfile,
  detail: Record<string, unknown> | null,
  execute: () => Promise<IamResult>,
): Promise<IamResult> {
  const audit = await openAudit();
  try {
    await audit.command(name, profile, detail);
    let result: IamResult;
    try {
      result = await execute();
    } catch (error) {
      if (error instanceof ProfileError) await audit.rejected(name, profile, error.message);
      throw error;
    }
    await audit.result(name, profile, result);
    return result;
  } finally {
    await audit.close();
  }
}

/** Who runs the command line, as audit rows name them: `cli:<OS user>`. */
export const cliActor = (): string => `cli:${osUser()}`;

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown'; // a container user without a passwd entry
  }
}

/**
 * The CLI's audit rows (actor `cli:<OS user>`), in the same log as the bot's. No row, no action: a
 * store that cannot be opened rejects with AuditUnavailableError, so the command does not run.
 */
export async function openCliAudit(
  config: Config,
  logger: Logger,
  now: () => Date = () => new Date(),
): Promise<CliAudit> {
  let store: Store;
  try {
    // Loaded on demand so that --help and bad input never load the native SQLite module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { openStore } = require('../store') as typeof import('../store');
    store = await openStore(config.database);
  } catch (error) {
    logger.error('the audit log cannot be opened; nothing was done', { error: (error as Error).message });
    throw new AuditUnavailableError(error);
  }
  return auditTrailOn(store, logger, now);
}

/** A command's result row; false, said loudly in the log, when it could not be written (the change stands). */
async function recordResult(store: Store, logger: Logger, row: NewAuditEntry): Promise<boolean> {
  try {
    await store.appendAudit(row);
    return true;
  } catch (error) {
    logger.error('AUDIT ROW MISSING: the result of a command was not recorded', {
      command: row.command,
      target: row.target,
      outcome: row.outcome,
      error: (error as Error).message,
    });
    return false;
  }
}

/** The CLI's audit rows written to an open store. */
function auditTrailOn(store: Store, logger: Logger, now: () => Date): CliAudit {
  const actor = cliActor();
  const base = () => ({ at: now(), actor, source: 'cli' as const, requestId: null });
  /** A row that must be written before the command goes on: AuditUnavailableError when it cannot. */
  const required = async (entry: NewAuditEntry, failure: string): Promise<void> => {
    try {
      await store.appendAudit(entry);
    } catch (error) {
      logger.error(failure, { command: entry.command, error: (error as Error).message });
      throw new AuditUnavailableError(error);
    }
  };
  return {
    command: (name, profile, detail = null) =>
      required(
        { ...base(), kind: 'command', command: name, target: targetOf(profile), outcome: 'received', detail },
        'audit write failed; nothing was done',
      ),
    result: (name, profile, result, detail = {}) =>
      recordResult(store, logger, {
        ...base(),
        kind: 'result',
        command: name,
        target: targetOf(profile),
        outcome: outcomeOf(result.IAM.Vendor),
        detail: { ...resultDetail(result), ...detail },
      }),
    rejected: (name, profile, reason) =>
      recordResult(store, logger, {
        ...base(),
        kind: 'result',
        command: name,
        target: targetOf(profile),
        outcome: 'rejected',
        detail: { reason },
      }),
    dryRun: (name, profile, plan, detail = {}) =>
      required(
        {
          ...base(),
          kind: 'command',
          command: name,
          target: targetOf(profile),
          outcome: 'dry-run',
          detail: { ...detail, plan },
        },
        'audit write failed; the plan is not shown',
      ),
    close: () => store.close(),
  };
}
