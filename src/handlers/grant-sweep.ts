/**
 * The grant sweep: every instance, every GRANT_SWEEP_MS (and once at start), ends the due grants
 * (./grant-expiry.ts) and sends the due notices (./grant-notices.ts).
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../log';
import type { BotContext } from './context';
import { endDueGrants } from './grant-expiry';
import { sendDueNotices } from './grant-notices';

/** How often every instance sweeps for due grant ends (and notices), unless told otherwise. */
export const GRANT_SWEEP_MS = 2_000;

/**
 * Sweeps every `periodMs`, one sweep at a time, each tracked for shutdown: a grant's lateness is at
 * most this period, plus the lease when the instance that claimed it was killed. Returns a stop function.
 */
export function startGrantSweep(
  context: BotContext,
  client: WebClient,
  options: { periodMs: number; logger: Logger },
): () => void {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const tick = async () => {
    try {
      await context.inFlight.run(async () => {
        await endDueGrants(context, client);
        await sendDueNotices(context, client);
      });
    } catch (error) {
      options.logger.warn('grant sweep failed', { error: (error as Error).message });
    }
    if (stopped) return;
    timer = setTimeout(() => void tick(), options.periodMs);
    timer.unref();
  };
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
