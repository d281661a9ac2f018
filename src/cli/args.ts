/**
 * Command-line flags, read the same way by every subcommand: our own words for an unknown flag (with
 * the nearest known one), a flag without its value, a value given to a switch, and a single-value flag
 * given twice (the second would otherwise win silently). Throws Error with the message; callers add
 * their own "run … --help" hint.
 */
import { parseArgs } from 'node:util';
import { closest } from '../closest-word';
import { looksLikeEmail, type UserProfile } from '../iam';

/** A --user-profile argument: a JSON object as text, or a bare email as Slack takes it. */
export function profileArgument(text: string): string | UserProfile {
  const trimmed = text.trim();
  return !trimmed.startsWith('{') && looksLikeEmail(trimmed) ? { email: trimmed } : text;
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
}

/** A switch is false unless given; a string flag is undefined unless given. */
export interface ParsedFlags<O extends Record<string, FlagSpec>> {
  values: { [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : string | undefined };
  positionals: string[];
}

export function parseFlags<O extends Record<string, FlagSpec>>(argv: string[], options: O): ParsedFlags<O> {
  const { values, tokens } = parseArgs({
    args: argv,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const seen = new Set<string>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const spec: FlagSpec | undefined = options[token.name];
    if (spec === undefined) {
      const near = closest(token.name, Object.keys(options));
      throw new Error(`unknown option ${token.rawName}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    const flag = `--${token.name}`;
    if (seen.has(token.name)) throw new Error(`${flag} is given twice; give it once`);
    seen.add(token.name);
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw new Error(`${flag} takes no value (got ${JSON.stringify(token.value)})`);
    }
    if (spec.type === 'string') {
      const missing = token.value === undefined || (!token.inlineValue && token.value.startsWith('--'));
      if (missing) throw new Error(`${flag} needs a value`);
    }
  }
  const read: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(options)) {
    read[name] = spec.type === 'boolean' ? values[name] === true : (values[name] as string | undefined);
  }
  return { values: read as ParsedFlags<O>['values'], positionals };
}
