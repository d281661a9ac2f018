import os from 'node:os';
import type { Config } from './config';
import type { CommandPlan, IamResult, UserProfile } from './iam';
import type { Logger } from './log';
import type { Store } from './store/types';

export interface CliAudit {
  command(name: string, profile: UserProfile): Promise<void>;
  result(name: string, profile: UserProfile, result: IamResult): Promise<void>;
  /** A dry run: one `command` row with outcome `dry-run` and the plan as its detail (nothing was sent). */
  dryRun(name: string, profile: UserProfile, plan: CommandPlan): Promise<void>;
  close(): Promise<void>;
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

function targetOf(profile: UserProfile): string | null {
  for (const key of ['email', 'username', 'employeeid', 'id']) {
    if (typeof profile[key] === 'string') return profile[key] as string;
  }
  return null;
}

/**
 * The CLI's audit rows (actor `cli:<OS user>`), in the same log as the bot's. A store that cannot be
 * opened is reported on stderr and the command still runs: the log must not lock admins out.
 */
export async function openCliAudit(
  config: Config,
  logger: Logger,
  now: () => Date = () => new Date(),
): Promise<CliAudit> {
  let store: Store | null = null;
  try {
    // Loaded on demand so that --help and bad input never load the native SQLite module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { openStore } = require('./store') as typeof import('./store');
    store = await openStore(config.database);
  } catch (error) {
    logger.warn('the audit log cannot be opened; this command is not audited', {
      error: (error as Error).message,
    });
  }
  const actor = cliActor();
  const append = async (entry: Parameters<Store['appendAudit']>[0]) => {
    try {
      await store?.appendAudit(entry);
    } catch (error) {
      logger.warn('audit write failed', { error: (error as Error).message });
    }
  };
  const base = () => ({ at: now(), actor, source: 'cli' as const, requestId: null });
  return {
    command: (name, profile) =>
      append({
        ...base(),
        kind: 'command',
        command: name,
        target: targetOf(profile),
        outcome: 'received',
        detail: null,
      }),
    result: (name, profile, result) => {
      const vendor = result.IAM.Vendor;
      const outcome = !vendor.success ? 'failure' : vendor.skipped ? 'skipped' : 'success';
      return append({
        ...base(),
        kind: 'result',
        command: name,
        target: targetOf(profile),
        outcome,
        detail: result as unknown as Record<string, unknown>,
      });
    },
    dryRun: (name, profile, plan) =>
      append({
        ...base(),
        kind: 'command',
        command: name,
        target: targetOf(profile),
        outcome: 'dry-run',
        detail: { plan },
      }),
    close: async () => {
      await store?.close();
    },
  };
}
