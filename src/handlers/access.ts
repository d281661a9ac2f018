import type { WebClient } from '@slack/web-api';

export interface SlackPerson {
  isAdmin: boolean;
  isGuest: boolean;
  isBot: boolean;
  deleted: boolean;
}

/** The two Slack lookups authorization needs; the WebClient implementation is below, tests pass fakes. */
export interface PeopleDirectory {
  person(userId: string): Promise<SlackPerson | null>;
  groupMembers(groupId: string): Promise<string[]>;
}

export function webPeopleDirectory(client: WebClient): PeopleDirectory {
  return {
    async person(userId) {
      let answer;
      try {
        answer = await client.users.info({ user: userId });
      } catch (error) {
        // A user Slack does not show us (another org's Slack Connect user, a removed account) is nobody.
        const code = (error as { data?: { error?: string } }).data?.error;
        if (code === 'user_not_found' || code === 'user_not_visible') return null;
        throw error;
      }
      const user = answer.user;
      if (!user) return null;
      return {
        isAdmin: Boolean(user.is_admin || user.is_owner || user.is_primary_owner),
        isGuest: Boolean(user.is_restricted || user.is_ultra_restricted),
        isBot: Boolean(user.is_bot),
        deleted: Boolean(user.deleted),
      };
    },
    async groupMembers(groupId) {
      const answer = await client.usergroups.users.list({ usergroup: groupId });
      return answer.users ?? [];
    },
  };
}

export interface Permissions {
  operator: boolean;
  approver: boolean;
}

interface Cached<T> {
  value: Promise<T>;
  until: number;
}

/**
 * Who may run commands (operators) and decide disables (approvers). A list names user ids (U…/W…) and
 * user groups (S…); no list means workspace admins and owners; approvers default to the operators.
 * Guests, bots and deactivated accounts are never either. Slack answers are cached for `cacheMs`.
 */
export class AccessPolicy {
  readonly #people = new Map<string, Cached<SlackPerson | null>>();
  readonly #groups = new Map<string, Cached<string[]>>();

  constructor(
    private readonly directory: PeopleDirectory,
    private readonly operators: readonly string[] | null,
    private readonly approvers: readonly string[] | null,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = 5 * 60_000,
  ) {}

  #cached<T>(map: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = load();
    map.set(key, { value, until: this.now() + this.cacheMs });
    // A failed lookup is not remembered: the next click asks Slack again.
    value.catch(() => map.delete(key));
    return value;
  }

  async #listed(userId: string, list: readonly string[]): Promise<boolean> {
    if (list.includes(userId)) return true;
    for (const groupId of list.filter((id) => id.startsWith('S'))) {
      const members = await this.#cached(this.#groups, groupId, () => this.directory.groupMembers(groupId));
      if (members.includes(userId)) return true;
    }
    return false;
  }

  async #allowed(userId: string, list: readonly string[] | null): Promise<boolean> {
    const person = await this.#cached(this.#people, userId, () => this.directory.person(userId));
    if (!person || person.isGuest || person.isBot || person.deleted) return false;
    return list === null ? person.isAdmin : this.#listed(userId, list);
  }

  isOperator(userId: string): Promise<boolean> {
    return this.#allowed(userId, this.operators);
  }

  isApprover(userId: string): Promise<boolean> {
    return this.#allowed(userId, this.approvers ?? this.operators);
  }

  async permissions(userId: string): Promise<Permissions> {
    const [operator, approver] = await Promise.all([this.isOperator(userId), this.isApprover(userId)]);
    return { operator, approver };
  }
}
