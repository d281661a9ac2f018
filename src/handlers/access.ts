import type { WebClient } from '@slack/web-api';
import type { Audience } from '../policy';

export interface SlackPerson {
  isAdmin: boolean;
  isGuest: boolean;
  isBot: boolean;
  deleted: boolean;
  /** users.info `team_id`: the workspace the account belongs to. */
  teamId: string | null;
  /** Enterprise Grid: the org (`enterprise_user.enterprise_id`) and its workspaces the user is in. */
  enterpriseId: string | null;
  teams: string[];
}

/** The app's own workspace (and Grid org), as auth.test says for the bot token. */
export interface HomeTeam {
  teamId: string;
  enterpriseId: string | null;
}

/** The Slack lookups authorization needs; the WebClient implementation is below, tests pass fakes. */
export interface PeopleDirectory {
  person(userId: string): Promise<SlackPerson | null>;
  groupMembers(groupId: string): Promise<string[]>;
  home(): Promise<HomeTeam>;
}

/**
 * A person counts only as a member of the app's own workspace: one from another workspace or Grid org
 * (a Slack Connect user, whose users.info may well say admin, of their own org) is nobody here. In a
 * Grid org the user must belong to the same org and be a member of the app's workspace.
 */
export function belongsHome(person: SlackPerson, home: HomeTeam): boolean {
  if (home.enterpriseId === null) return person.enterpriseId === null && person.teamId === home.teamId;
  return (
    person.enterpriseId === home.enterpriseId &&
    (person.teamId === home.teamId || person.teams.includes(home.teamId))
  );
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
        teamId: user.team_id ?? null,
        enterpriseId: user.enterprise_user?.enterprise_id ?? null,
        teams: user.enterprise_user?.teams ?? [],
      };
    },
    async groupMembers(groupId) {
      const answer = await client.usergroups.users.list({ usergroup: groupId });
      return answer.users ?? [];
    },
    async home() {
      // auth.test, not the team a request names: it is the same answer in Socket and HTTP modes, and a
      // click or command from a Slack Connect channel names the other side's team.
      const answer = await client.auth.test();
      if (!answer.team_id) throw new Error('auth.test did not name the app’s workspace');
      return { teamId: answer.team_id, enterpriseId: answer.enterprise_id || null };
    },
  };
}

/** A configured list (IAM_OPERATORS, IAM_APPROVERS); null: the workspace admins and owners. */
const audienceOf = (list: readonly string[] | null): Audience =>
  list === null ? { ids: [], admins: true } : { ids: list, admins: false };

export interface Permissions {
  operator: boolean;
  approver: boolean;
}

interface Cached<T> {
  value: Promise<T>;
  until: number;
}

/** How long a permission answer from Slack is believed. */
export const PERMISSION_CACHE_MS = 60_000;

export interface CheckOptions {
  /** Ask Slack now, whatever the cache holds (the fresh answer is cached). Approve / Deny use it. */
  live?: boolean;
}

/**
 * Who may run commands (operators) and decide disables (approvers). A list names user ids (U…/W…) and
 * user groups (S…); no list means workspace admins and owners; approvers default to the operators.
 * Guests, bots, deactivated accounts and people of another workspace or Grid org are never either.
 * Slack answers are cached for `cacheMs` (at most a minute by default); the app's own workspace, once
 * known, for good.
 */
export class AccessPolicy {
  readonly #people = new Map<string, Cached<SlackPerson | null>>();
  readonly #groups = new Map<string, Cached<string[]>>();
  #home: Promise<HomeTeam> | null = null;

  constructor(
    private readonly directory: PeopleDirectory,
    private readonly operators: readonly string[] | null,
    private readonly approvers: readonly string[] | null,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = PERMISSION_CACHE_MS,
  ) {}

  #homeTeam(): Promise<HomeTeam> {
    if (!this.#home) {
      const home = this.directory.home();
      this.#home = home;
      home.catch(() => {
        if (this.#home === home) this.#home = null;
      });
    }
    return this.#home;
  }

  #cached<T>(
    map: Map<string, Cached<T>>,
    key: string,
    load: () => Promise<T>,
    options: CheckOptions,
  ): Promise<T> {
    const hit = map.get(key);
    if (!options.live && hit && hit.until > this.now()) return hit.value;
    const value = load();
    map.set(key, { value, until: this.now() + this.cacheMs });
    // A failed lookup is not remembered: the next click asks Slack again.
    value.catch(() => {
      if (map.get(key)?.value === value) map.delete(key);
    });
    return value;
  }

  async #listed(userId: string, list: readonly string[], options: CheckOptions): Promise<boolean> {
    if (list.includes(userId)) return true;
    for (const groupId of list.filter((id) => id.startsWith('S'))) {
      const load = () => this.directory.groupMembers(groupId);
      const members = await this.#cached(this.#groups, groupId, load, options);
      if (members.includes(userId)) return true;
    }
    return false;
  }

  /** The person, when a full member of the app's own workspace (no guest, bot or deactivated account). */
  async #member(userId: string, options: CheckOptions): Promise<SlackPerson | null> {
    const [home, person] = await Promise.all([
      this.#homeTeam(),
      this.#cached(this.#people, userId, () => this.directory.person(userId), options),
    ]);
    if (!person || person.isGuest || person.isBot || person.deleted) return null;
    return belongsHome(person, home) ? person : null;
  }

  /**
   * Whether `userId` is one of `audience` (an approval rule's requesters or approvers: user ids, user
   * groups, and with `admins` the workspace admins and owners), under the same conditions as operators.
   */
  async inAudience(userId: string, audience: Audience, options: CheckOptions = {}): Promise<boolean> {
    const person = await this.#member(userId, options);
    if (!person) return false;
    return (audience.admins && person.isAdmin) || this.#listed(userId, audience.ids, options);
  }

  /** Any full member of the workspace: who may ask for a requestable group for themselves. */
  async isMember(userId: string, options: CheckOptions = {}): Promise<boolean> {
    return (await this.#member(userId, options)) !== null;
  }

  isOperator(userId: string, options: CheckOptions = {}): Promise<boolean> {
    return this.inAudience(userId, audienceOf(this.operators), options);
  }

  isApprover(userId: string, options: CheckOptions = {}): Promise<boolean> {
    return this.inAudience(userId, audienceOf(this.approvers ?? this.operators), options);
  }

  async permissions(userId: string): Promise<Permissions> {
    const [operator, approver] = await Promise.all([this.isOperator(userId), this.isApprover(userId)]);
    return { operator, approver };
  }
}
