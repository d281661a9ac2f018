/** One Web API call (or response_url post) the bot made. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** performance.now() when the request arrived. */
  at: number;
}

export interface SlackUserRecord {
  is_admin?: boolean;
  is_owner?: boolean;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  is_bot?: boolean;
  deleted?: boolean;
  /** The user's workspace; the stand-in answers T1 (its own, as auth.test says) when absent. */
  team_id?: string;
  enterprise_user?: { enterprise_id: string; teams?: string[]; is_admin?: boolean };
  /** The user's own time zone (IANA name), as users.info says it. */
  tz?: string;
  /** The profile's email (users:read.email), as users.info says it. */
  profile?: { email?: string };
}

export interface SlackStandIn {
  /** Value for SLACK_API_URL (ends in `/`). */
  apiUrl: string;
  /** Base for response_url values: `${responseUrlBase}<anything>` is recorded as method `response_url`. */
  responseUrlBase: string;
  calls: SlackCall[];
  users: Map<string, SlackUserRecord>;
  groups: Map<string, string[]>;
  /** Channels the bot may not post in (chat.postMessage answers not_in_channel). */
  closedChannels: Set<string>;
  /** Channels where chat.postMessage answers this error (e.g. restricted_action, token_revoked). */
  channelErrors: Map<string, string>;
  /** Web API methods that answer `{ ok: false, error }` with the mapped error code. */
  failing: Map<string, string>;
  /** What apps.connections.open answers as the Socket Mode WebSocket URL. */
  socketModeUrl: string | null;
  /** Resolves when a call matching `predicate` has been recorded (already or later). */
  waitFor(predicate: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  callsTo(method: string): SlackCall[];
  close(): Promise<void>;
}

export function startSlackStandIn(): Promise<SlackStandIn>;
