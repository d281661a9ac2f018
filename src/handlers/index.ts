import type { App } from '@slack/bolt';
import {
  APPROVE_ACTION_ID,
  CANCEL_SCHEDULE_ACTION_ID,
  CREATE_CALLBACK_ID,
  DENY_ACTION_ID,
  GRANT_CALLBACK_ID,
  GRANT_DONE_ACTION_ID,
  GRANT_EXTEND_ACTION_ID,
  GRANT_GROUP_ACTION_ID,
  UPDATE_CALLBACK_ID,
  UPDATE_CONFIRM_CALLBACK_ID,
} from '../views/slack';
import { disableDecision } from './actions/disable-decision';
import { grantNoticeClick } from './actions/grant-buttons';
import { scheduleCancel } from './actions/schedule-cancel';
import { iamAudit } from './commands/iam-audit';
import { iamCreateUser } from './commands/iam-create-user';
import { iamDisableUser } from './commands/iam-disable-user';
import { iamEnableUser } from './commands/iam-enable-user';
import { iamGetUser } from './commands/iam-get-user';
import { iamGrant } from './commands/iam-grant';
import { iamRevoke } from './commands/iam-revoke';
import { iamUpdateUser } from './commands/iam-update-user';
import type { BotContext } from './context';
import { appHomeOpened } from './events/app-home-opened';
import { refuseReplays } from './replays';
import { grantGroupOptions, grantModalSubmission } from './submissions/grant-modal';
import { updateConfirmation, userModalSubmission } from './submissions/user-modal-submission';

export { AccessPolicy, webPeopleDirectory } from './access';
export { expireDue, recoverApproved } from './approvals';
export { APPROVAL_LEASE_MS, approvedRetry } from './claims';
export type { ApprovedRetry, BotContext } from './context';
export { reconcileInterrupted } from './reconcile';
export { endDueGrants } from './grant-expiry';
export { grantDone, grantExtend, sendDueNotices } from './grant-notices';
export { GRANT_SWEEP_MS, startGrantSweep } from './grant-sweep';
export { sendDueFollowUps } from './reminders';
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
  app.command('/iam-grant', iamGrant(context));
  app.command('/iam-revoke', iamRevoke(context));
  app.action(APPROVE_ACTION_ID, disableDecision(context, 'approved'));
  app.action(DENY_ACTION_ID, disableDecision(context, 'denied'));
  app.action(CANCEL_SCHEDULE_ACTION_ID, scheduleCancel(context));
  app.action(GRANT_DONE_ACTION_ID, grantNoticeClick(context, 'done'));
  app.action(GRANT_EXTEND_ACTION_ID, grantNoticeClick(context, 'extend'));
  app.view(CREATE_CALLBACK_ID, userModalSubmission(context, 'create'));
  app.view(UPDATE_CALLBACK_ID, userModalSubmission(context, 'update'));
  app.view(UPDATE_CONFIRM_CALLBACK_ID, updateConfirmation(context));
  app.view(GRANT_CALLBACK_ID, grantModalSubmission(context));
  app.options(GRANT_GROUP_ACTION_ID, grantGroupOptions(context));
  app.event('app_home_opened', appHomeOpened(context));
}
