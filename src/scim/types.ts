/** Atlassian SCIM user, as in the user-provisioning OpenAPI document (ScimUser). */
export interface ScimEmail {
  value: string;
  type?: string;
  primary?: boolean;
}

export interface ScimName {
  formatted?: string;
  familyName?: string;
  givenName?: string;
  middleName?: string;
  honorificPrefix?: string;
  honorificSuffix?: string;
}

export interface ScimPhoneNumber {
  value: string;
  type?: string;
  primary?: boolean;
}

export interface ScimUser {
  schemas?: string[];
  id?: string;
  userName?: string;
  externalId?: string;
  name?: ScimName;
  displayName?: string;
  nickName?: string;
  title?: string;
  preferredLanguage?: string;
  department?: string;
  organization?: string;
  timezone?: string;
  emails?: ScimEmail[];
  phoneNumbers?: ScimPhoneNumber[];
  active?: boolean;
  [attribute: string]: unknown;
}

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The only attributes Atlassian accepts in a filter. */
export type LookupAttribute = 'userName' | 'externalId';

/** RFC 7644 PATCH operation; path-less with an object value is the form we send (SPEC.md section 3). */
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: Record<string, unknown>;
}

/** Result of a create: `recovered` is true when a retried POST met 409 and the user was looked up instead. */
export interface CreatedUser {
  user: ScimUser;
  recovered: boolean;
}

/** A member of a group (ScimGroupMember), or a group of a user (ScimGroupForUser): `value` is the id. */
export interface ScimGroupReference {
  value: string;
  display?: string;
  type?: string;
  $ref?: string;
}

/** Atlassian SCIM group (ScimGroup); the client only hands out groups with a string id and name. */
export interface ScimGroup {
  schemas?: string[];
  id: string;
  displayName: string;
  externalId?: string;
  /** Absent when the answer did not list them. */
  members?: ScimGroupReference[];
  [attribute: string]: unknown;
}

/** One page of `GET /Groups`. */
export interface GroupPage {
  groups: ScimGroup[];
  totalResults: number;
}

/** The group operations of a directory (Atlassian's `/Groups`). */
export interface ScimGroupDirectory {
  /** GET /Groups?filter=displayName eq "<name>"; the name is escaped as for users. */
  findGroupsByName(displayName: string): Promise<ScimGroup[]>;
  /** GET /Groups/{id}; null when Atlassian answers 404. */
  getGroupById(id: string): Promise<ScimGroup | null>;
  /** POST /Groups; a 409 (the name is taken) is thrown with a sentence saying so. */
  createGroup(displayName: string): Promise<ScimGroup>;
  /** One PATCH adding every user id to the group's members. */
  addGroupMembers(groupId: string, userIds: readonly string[]): Promise<void>;
  /** One PATCH removing every user id from the group's members. */
  removeGroupMembers(groupId: string, userIds: readonly string[]): Promise<void>;
  /** GET /Groups?startIndex=&count= (startIndex is 1-based). */
  listGroups(startIndex: number, count: number): Promise<GroupPage>;
}

/**
 * What the ILM core needs from a directory. The HTTP client implements it for Atlassian and,
 * through an in-process transport, for the sandbox.
 */
export interface ScimDirectory extends ScimGroupDirectory {
  /** GET /Users/{id}; null when Atlassian answers 404. */
  getUserById(id: string): Promise<ScimUser | null>;
  /** GET /Users?filter=<attribute> eq "<value>"; the value is escaped. */
  findUsers(attribute: LookupAttribute, value: string): Promise<ScimUser[]>;
  /** POST /Users. Never creates twice, even when a retry follows a lost response. */
  createUser(user: ScimUser): Promise<CreatedUser>;
  /** PATCH /Users/{id}. */
  patchUser(id: string, operations: PatchOperation[]): Promise<ScimUser>;
  /** GET /Schemas/urn:ietf:params:scim:schemas:core:2.0:User. */
  getUserSchema(): Promise<unknown>;
  /** GET /Users?count=1; throws ScimRequestError when the directory cannot be used. */
  testConnection(): Promise<void>;
}

/** Told about each HTTP attempt to Atlassian and each retry (the bot's metrics); never affects them. */
export interface ScimObserver {
  /** One attempt: its method, the status (`network` when no answer came) and how long it took. */
  attempt(method: string, status: number | 'network', seconds: number): void;
  /** An attempt that will be retried, and why. */
  retry(reason: '429' | '5xx' | 'network' | 'timeout'): void;
}
