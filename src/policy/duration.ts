/**
 * Policy durations: one or more `<whole number><unit>` parts, units s, m (minutes), h, d, w — `90s`,
 * `30m`, `4h`, `1d12h`, `2w`. A bare number is refused (seconds or hours?). Wider than the environment's
 * ATLASSIAN_TIMEOUT grammar (src/config.ts) because policies speak in hours and days.
 */
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;

const WHOLE = /^(\d+[smhdw])+$/;
const PART = /(\d+)([smhdw])/g;

/** True when `text` is written as a duration, however long (parsePolicyDuration may still say null). */
export function isDurationText(text: string): boolean {
  return WHOLE.test(text.trim().toLowerCase());
}

/** Milliseconds, or null when the text is not a duration or too long to count in milliseconds. */
export function parsePolicyDuration(text: string): number | null {
  const compact = text.trim().toLowerCase();
  if (!WHOLE.test(compact)) return null;
  let ms = 0;
  for (const [, amount, unit] of compact.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit as Unit];
  return Number.isSafeInteger(ms) ? ms : null;
}

/** `4h`, `1d12h`, `90s`: the largest units first, as a policy file would write it. */
export function formatPolicyDuration(ms: number): string {
  let rest = Math.round(ms / 1000) * 1000;
  if (rest === 0) return '0s';
  const parts: string[] = [];
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const amount = Math.floor(rest / UNIT_MS[unit]);
    if (amount > 0) parts.push(`${amount}${unit}`);
    rest -= amount * UNIT_MS[unit];
  }
  return parts.join('');
}
