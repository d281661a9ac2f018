export {
  updateUser,
  getUser,
  disableUser,
  enableUser,
  failureCause,
  previewDisable,
  previewEnable,
  previewUpdate,
  previewCreate,
  applyWrite,
  type WritePreview,
  type AttributeChange,
  type UpdatePreview,
  type IamContext,
  type WriteOptions,
} from './commands';
// iam-create-user everywhere (CLI, Slack, bulk) is the group-aware create: `groups` in the profile.
export {
  createUserInGroups as createUser,
  profileGroups,
  addToGroup,
  removeFromGroup,
  getGroups,
  closestNames,
  GroupCommandError,
  listAllGroups,
  lookUpGroup,
  previewMembership,
  removePinnedMember,
  type PinnedMembership,
} from './groups';
export {
  GROUP_COMMANDS,
  isGroupCommand,
  isProfileCommand,
  PROFILE_COMMANDS,
  runCommand,
  type CommandName,
  type CommandOptions,
  type AccessCommand,
  type GroupCommand,
  type ProfileCommand,
} from './run-command';
export { testModule, getMappingFields, type ConnectionStatus, type MappingField } from './directory-info';
export {
  BUILT_IN_INCOMING,
  BUILT_IN_OUTGOING,
  loadMapper,
  MapperError,
  mapperSourceKeys,
  type Mapper,
} from './mappers';
export {
  checkStorable,
  parseUserProfile,
  parseAllowEnable,
  checkProfileKey,
  SCIM_PREFIX,
  type ProfileOptions,
  PROFILE_KEYS,
  targetOf,
  unknownKeyError,
  ProfileError,
  ProfileJsonError,
  type UserProfile,
} from './profile';
export {
  BRAND,
  buildResult,
  outcomeOf,
  resultDetail,
  SKIP_REASONS,
  type Outcome,
  type GroupSummary,
  type IamResult,
  type VendorResult,
  type IamAction,
} from './result';
export {
  APPROVAL_ACTIONS,
  ApprovalPlanError,
  carryOutPlan,
  finishedByEarlierAttempt,
  pinUser,
  readApprovalPlan,
  updatePlan,
  type ApprovalAction,
  type ApprovalPlan,
  type PinnedGrant,
} from './approval-plan';
export {
  planCommand,
  planFingerprint,
  planMembership,
  planOfWrite,
  WRITE_COMMANDS,
  type MembershipCommand,
  type CommandPlan,
  type PlannedUser,
  type WriteCommand,
} from './plan';
/** One email shape for every room (the profile parser, the sandbox, Slack's and the CLI's bare email). */
export { looksLikeEmail } from '../scim/value-rules';
