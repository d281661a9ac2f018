/** Slack surfaces: pure functions from data to Block Kit (no Slack API calls, no store). */
export {
  audienceMention,
  escapeMrkdwn,
  escapeTruncate,
  isSlackUserId,
  mention,
  slackDate,
  truncate,
  truncateMrkdwn,
} from './escape';
export { LIMITS, type SlackMessage } from './limits';
export { SANDBOX_TEXT } from './blocks';
export {
  CELL_MAX,
  RESULT_TABLE_COLUMNS,
  changedText,
  hasThreadDetails,
  resultMessage,
  resultSentence,
  resultTableBlock,
  userAttributeLines,
  userDetailsThreadMessage,
  type ResultMessageOptions,
} from './result';
export {
  APPROVE_ACTION_ID,
  CANCEL_SCHEDULE_ACTION_ID,
  DECISION_BLOCK_ID,
  DENY_ACTION_ID,
  approvalDecidedMessage,
  approvalExpiredMessage,
  approvalRequestMessage,
  grantLength,
  requestPhrase,
  requesterNotice,
  type ApprovalCard,
  type ApprovalChange,
  type ApprovalOptions,
  type ApprovalStatus,
  type DecidedOptions,
} from './approval';
export {
  ALLOW_ENABLE_BLOCK_ID,
  CALLBACK_IDS,
  CREATE_CALLBACK_ID,
  FIELD_MAX_LENGTH,
  PROFILE_FIELDS,
  UPDATE_CALLBACK_ID,
  UPDATE_CONFIRM_CALLBACK_ID,
  confirmLoadingView,
  confirmNoticeView,
  readConfirmMetadata,
  updateConfirmView,
  type ConfirmMetadata,
  VALUE_ACTION_ID,
  readModalMetadata,
  readModalValues,
  userModal,
  validateModalValues,
  type ModalKind,
  type ModalMetadata,
  type ModalStateValues,
  type ModalValues,
  type ProfileField,
  type UserModalOptions,
} from './modal';
export {
  AUDIT_HISTORY_LIMIT,
  auditHistoryMessage,
  auditTableBlock,
  type AuditHistoryEntry,
  type AuditHistoryOptions,
} from './audit';
export {
  HOME_SCHEDULED_MAX,
  scheduledHomeBlocks,
  scheduledOutcomeMessage,
  type ScheduledOutcome,
} from './schedule';
export {
  HOME_PENDING_MAX,
  homeView,
  type HomeInput,
  type HomeViewer,
  restrictedHomeView,
  type RestrictedReason,
} from './home';
export {
  GRANT_BLOCKS,
  GRANT_CALLBACK_ID,
  GRANT_GROUP_ACTION_ID,
  grantModal,
  groupOptions,
  readGrantMetadata,
} from './grant-modal';
export { granteeMessage, grantEndedMessage, type GrantEnd, type GrantFacts } from './grants';
export { groupList } from './grants-home';
export {
  SLASH_COMMANDS,
  TYPED_QUOTE_MAX,
  errorNotice,
  extendWaitingNotice,
  invalidJsonProblem,
  postedElsewhereNotice,
  voteRecordedNotice,
  refusalMessage,
  usageMessage,
  workingNotice,
  type NoticeOptions,
  type UsageOptions,
} from './notices';
export {
  GRANT_DONE_ACTION_ID,
  GRANT_EXTEND_ACTION_ID,
  grantEndMessage,
  grantExtendAskedMessage,
  grantNoticeMessage,
  grantNoticeSentMessage,
  type ExpiringGrant,
  type ExpiryOutcome,
  type GrantEndCause,
} from './grant-expiry';
export { followUpThreadMessage, type FollowUpNotice, reminderDirectMessage } from './follow-ups';
export { type BreakGlassNotice, breakGlassNoticeMessage, breakGlassResultMessage } from './break-glass';
