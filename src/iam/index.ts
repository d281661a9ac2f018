export {
  createUser,
  updateUser,
  getUser,
  disableUser,
  enableUser,
  previewDisable,
  type IamContext,
  type WriteOptions,
} from './commands';
export { testModule, getMappingFields, type ConnectionStatus, type MappingField } from './directory-info';
export { BUILT_IN_INCOMING, BUILT_IN_OUTGOING, loadMapper, MapperError, type Mapper } from './mappers';
export { checkStorable, parseUserProfile, parseAllowEnable, ProfileError, type UserProfile } from './profile';
export { BRAND, SKIP_REASONS, type IamResult, type VendorResult, type IamAction } from './result';
