export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where JSON lines go: stdout for the bot, stderr for the CLI. */
  write: (line: string) => void;
  /** Secret values that are replaced by `[REDACTED]` wherever they would appear in a line. */
  secrets?: readonly string[];
  now?: () => Date;
}

/**
 * How a secret can appear in text: as it is, JSON-escaped once (a log line, a JSON error body) and
 * twice (JSON text carried inside a JSON string), so that a secret with `"` or `\\` is caught too.
 */
function formsOf(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1);
  return [...new Set([secret, once, twice])];
}

/** Replaces every secret, in each of its forms, by `[REDACTED]` (longest first, so none is cut in half). */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = secrets
    .filter((secret) => secret.length > 0)
    .flatMap(formsOf)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of forms) out = out.split(form).join('[REDACTED]');
  return out;
}

/** JSON-lines logger; every line passes through `redact` before it is written. */
export function createLogger(options: LoggerOptions): Logger {
  const now = options.now ?? (() => new Date());
  const secrets = options.secrets ?? [];
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < ORDER[options.level]) return;
    const line = JSON.stringify({ time: now().toISOString(), level, message, ...fields });
    options.write(redact(line, secrets) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
