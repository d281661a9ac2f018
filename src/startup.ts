/**
 * What the bot checks before it takes requests: the bot token works against SLACK_API_URL and holds the
 * scopes manifest.yml asks for. A failure is one sentence naming the variable and the fix (exit 1).
 */
import { webApi } from '@slack/bolt';

/** A dependency refused or did not answer at start; the message is one line naming the variable. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** The bot scopes manifest.yml requests. */
export const REQUIRED_SCOPES = ['commands', 'chat:write', 'users:read', 'usergroups:read'];

const REINSTALL = 'reinstall the app (Slack app settings → Install App) and copy its Bot User OAuth Token';

/** What to do about a token Slack refuses, by variable. */
const TOKEN_FIXES: Record<string, string> = {
  SLACK_BOT_TOKEN: REINSTALL,
  SLACK_APP_TOKEN:
    'create an app-level token with the connections:write scope (Slack app settings → Basic Information → App-Level Tokens)',
};

/** Slack's answers to a bad token. */
const TOKEN_ERRORS: Record<string, string> = {
  invalid_auth: 'Slack does not accept this token',
  not_authed: 'Slack received no token',
  token_revoked: 'the token was revoked',
  token_expired: 'the token has expired',
  account_inactive: 'the token belongs to a deleted app or user',
  invalid_token: 'the token is malformed',
};

export interface BotIdentity {
  botId: string;
  botUserId: string;
}

/** Reads a Web API error as the sentence an operator needs. */
export function describeSlackFailure(error: unknown, variable: string, apiUrl: string): string {
  const coded = error as { code?: string; data?: { error?: string }; statusCode?: number; original?: Error };
  if (coded.code === webApi.ErrorCode.PlatformError) {
    const slackError = coded.data?.error ?? 'unknown_error';
    const what = TOKEN_ERRORS[slackError] ?? 'Slack refused it';
    return `${variable}: ${what} (${slackError}); ${TOKEN_FIXES[variable] ?? REINSTALL}`;
  }
  if (coded.code === webApi.ErrorCode.HTTPError) {
    return `SLACK_API_URL: ${apiUrl} answered HTTP ${coded.statusCode ?? '?'}, not Slack's Web API; unset SLACK_API_URL to use https://slack.com/api/`;
  }
  if (coded.code === webApi.ErrorCode.RequestError) {
    const cause = networkCause(coded.original);
    return `SLACK_API_URL: Slack cannot be reached at ${apiUrl} (${cause}); check the network, proxy and firewall, or unset SLACK_API_URL to use https://slack.com/api/`;
  }
  return `${variable}: the check with Slack failed (${(error as Error).message ?? String(error)})`;
}

/** The network error under a failed fetch: `ECONNREFUSED`, `ENOTFOUND`, a TLS code, or its message. */
function networkCause(original: Error | undefined): string {
  const cause = (original as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? original?.message ?? 'no answer';
}

/**
 * Calls auth.test with the bot token (two quick retries, 10 s each, so an unreachable Slack stops the
 * start within seconds) and returns who the bot is. Refuses a token without the scopes manifest.yml
 * asks for, when Slack says which scopes it holds.
 */
export async function checkBotToken(token: string, apiUrl: string): Promise<BotIdentity> {
  const client = new webApi.WebClient(token, {
    slackApiUrl: apiUrl,
    timeout: 10_000,
    retryConfig: { retries: 2, minTimeout: 200, maxTimeout: 1_000 },
    logLevel: webApi.LogLevel.ERROR,
    logger: silentWebLogger,
  });
  let answer: webApi.AuthTestResponse;
  try {
    answer = await client.auth.test();
  } catch (error) {
    throw new StartupError(describeSlackFailure(error, 'SLACK_BOT_TOKEN', apiUrl));
  }
  if (!answer.user_id || !answer.bot_id) {
    throw new StartupError(
      'SLACK_BOT_TOKEN: this is not a bot token (auth.test names no bot); use the Bot User OAuth Token (xoxb-…)',
    );
  }
  const held = answer.response_metadata?.scopes;
  const missing = held ? REQUIRED_SCOPES.filter((scope) => !held.includes(scope)) : [];
  if (missing.length > 0) {
    throw new StartupError(
      `SLACK_BOT_TOKEN: the token lacks the scopes ${missing.join(', ')}; add them from manifest.yml (OAuth & Permissions), then ${REINSTALL}`,
    );
  }
  return { botId: answer.bot_id, botUserId: answer.user_id };
}

/** The check's own client stays quiet: its failure becomes the one line above. */
const silentWebLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => webApi.LogLevel.ERROR,
  setName: () => {},
};
