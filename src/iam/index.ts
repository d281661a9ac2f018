export {
  createUser,
  updateUser,
  getUser,
  disableUser,
  enableUser,
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
export { testModule, getMappingFields, type ConnectionStatus, type MappingField } from './directory-info';
export { BUILT_IN_INCOMING, BUILT_IN_OUTGOING, loadMapper, MapperError, type Mapper } from './mappers';
export {
  parseUserProfile,
  parseAllowEnable,
  ProfileError,
  ProfileJsonError,
  type UserProfile,
} from './profile';
export { BRAND, SKIP_REASONS, type IamResult, type VendorResult, type IamAction } from './result';
export {
  APPROVAL_ACTIONS,
  ApprovalPlanError,
  carryOutPlan,
  pinUser,
  readApprovalPlan,
  updatePlan,
  type ApprovalAction,
  type ApprovalPlan,
} from './approval-plan';
export {
  planCommand,
  planFingerprint,
  planOfWrite,
  WRITE_COMMANDS,
  type CommandPlan,
  type PlannedUser,
  type WriteCommand,
} from './plan';
