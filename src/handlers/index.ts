import type { App } from '@slack/bolt';
import { APPROVE_ACTION, DENY_ACTION, disableDecision } from './actions/disable-decision';
import { CANCEL_SCHEDULE_ACTION, scheduleCancel } from './actions/schedule-cancel';
import { iamAudit } from './commands/iam-audit';
import { iamCreateUser } from './commands/iam-create-user';
import { iamDisableUser } from './commands/iam-disable-user';
import { iamEnableUser } from './commands/iam-enable-user';
import { iamGetUser } from './commands/iam-get-user';
import { iamUpdateUser } from './commands/iam-update-user';
import type { BotContext } from './context';
import { appHomeOpened } from './events/app-home-opened';
import { refuseReplays } from './replays';
import {
  CREATE_CALLBACK,
  UPDATE_CALLBACK,
  UPDATE_CONFIRM_CALLBACK,
  updateConfirmation,
  userModalSubmission,
} from './views/user-modal-submission';

export { AccessPolicy, webPeopleDirectory } from './access';
export { APPROVAL_LEASE_MS, approvedRetry, expireDue, recoverApproved } from './approvals';
export type { ApprovedRetry, BotContext } from './context';
export { reconcileInterrupted } from './reconcile';
export { FollowUps } from './follow-ups';
export { announceUnannounced, runScheduled, startScheduleTimer } from './scheduled';
export { InFlight } from './in-flight';

/** Every listener, grouped by Slack surface, behind the replay guard (a trigger_id runs once). */
export function registerListeners(app: App, context: BotContext): void {
  app.use(refuseReplays(context));
  app.command('/iam-create-user', iamCreateUser(context));
  app.command('/iam-update-user', iamUpdateUser(context));
  app.command('/iam-get-user', iamGetUser(context));
  app.command('/iam-disable-user', iamDisableUser(context));
  app.command('/iam-enable-user', iamEnableUser(context));
  app.command('/iam-audit', iamAudit(context));
  app.action(APPROVE_ACTION, disableDecision(context, 'approved'));
  app.action(DENY_ACTION, disableDecision(context, 'denied'));
  app.action(CANCEL_SCHEDULE_ACTION, scheduleCancel(context));
  app.view(CREATE_CALLBACK, userModalSubmission(context, 'create'));
  app.view(UPDATE_CALLBACK, userModalSubmission(context, 'update'));
  app.view(UPDATE_CONFIRM_CALLBACK, updateConfirmation(context));
  app.event('app_home_opened', appHomeOpened(context));
}
