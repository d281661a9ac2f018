/** Reading a policy file: YAML → shape (zod) → complete rules → cross-checks; every problem with its line. */
import fs from 'node:fs';
import { type Document, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { semanticProblems } from './checks';
import { keyName, lineAt, type PolicyPath } from './locate';
import { ruleFromFile } from './rules';
import { fileSchema, knownKeysAt } from './schema';
import { closest } from '../closest-word';
import { type Policy, type PolicyDefaults, PolicyError, type PolicyProblem } from './types';

/**
 * Only the three settings a policy needs: callers may pass `config.slack` as it is, and its tokens must
 * not travel inside a policy object that could be logged.
 */
function onlyDefaults({ operators, approvers, approvalTtlMs }: PolicyDefaults): PolicyDefaults {
  return { operators, approvers, approvalTtlMs };
}

/** No IAM_POLICY_FILE: only the built-in rules, which are today's behaviour. */
export function defaultPolicy(defaults: PolicyDefaults): Policy {
  return { file: null, rules: [], defaults: onlyDefaults(defaults) };
}

function valueAt(value: unknown, path: PolicyPath): unknown {
  let node = value;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
): { path: PolicyPath; message: string }[] {
  return issues.flatMap((issue) => {
    const path = issue.path as PolicyPath;
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const near = closest(key, knownKeysAt(path));
        return {
          path: [...path, key],
          message: `unknown key${near ? `; did you mean ${near}?` : ` (known: ${knownKeysAt(path).join(', ')})`}`,
        };
      });
    }
    const missing = issue.code === 'invalid_type' && valueAt(data, path) === undefined;
    return [{ path, message: missing ? 'is required' : issue.message }];
  });
}

function syntaxProblems(doc: Document, file: string): PolicyProblem[] {
  return doc.errors.map((error) => ({
    file,
    line: error.linePos?.[0].line ?? 1,
    key: '(yaml)',
    message: error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
  }));
}

/** How far aliases may expand: the yaml library's default, named so the message can say it. */
const MAX_ALIAS_COUNT = 100;

/** The line of the document's last alias (`*name`): where an alias bomb finally explodes. */
function lastAliasLine(doc: Document, lines: LineCounter): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? offset;
    },
  });
  return lines.linePos(offset).line;
}

/**
 * The document as plain data. The yaml library refuses aliases that expand too far (an "alias bomb",
 * which would take all memory); that is a problem of the file, reported at its last alias.
 */
function documentData(doc: Document, lines: LineCounter, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (error) {
    if (!/alias/i.test((error as Error).message)) throw error;
    throw new PolicyError([
      {
        file,
        line: lastAliasLine(doc, lines),
        key: '(yaml)',
        message: `too many aliases: they expand to more than ${MAX_ALIAS_COUNT} copies; write the values out`,
      },
    ]);
  }
}

/** Parses and checks a policy; throws PolicyError listing every problem found, in line order. */
export function parsePolicy(text: string, file: string, given: PolicyDefaults): Policy {
  const defaults = onlyDefaults(given);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const syntax = syntaxProblems(doc, file);
  if (syntax.length > 0) throw new PolicyError(syntax);
  const data = documentData(doc, lines, file);
  const located = (problems: { path: PolicyPath; message: string }[]): PolicyProblem[] =>
    problems
      .map(({ path, message }) => ({ file, line: lineAt(doc, lines, path), key: keyName(path), message }))
      .sort((a, b) => a.line - b.line);

  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) throw new PolicyError(located(schemaProblems(parsed.error.issues, data)));
  const raws = parsed.data.rules;
  const rules = raws.map((raw, index) =>
    ruleFromFile(raw, index, lineAt(doc, lines, ['rules', index]), defaults),
  );
  const problems = located(semanticProblems(raws, rules));
  if (problems.length > 0) throw new PolicyError(problems);
  return { file, rules, defaults };
}

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'there is no such file',
  EISDIR: 'is a directory, not a file',
  EACCES: 'cannot be read: permission denied',
};

/** A policy is a page of rules; anything bigger is a mistake, and checking it would take long. */
export const MAX_POLICY_BYTES = 1_000_000;

/**
 * The file's text, refusing what is not a regular file (a FIFO would block, /dev/zero never ends) and
 * files over MAX_POLICY_BYTES. Opened without blocking and checked on the open descriptor, so the file
 * cannot be swapped between the check and the read.
 */
export function readPolicyFile(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (!stat.isFile())
      throw new PolicyFileRefused(
        'is not a regular file (a FIFO, device or socket?): give the path of a YAML file',
      );
    if (stat.size > MAX_POLICY_BYTES) {
      throw new PolicyFileRefused(
        `is ${stat.size} bytes; a policy file may be at most ${MAX_POLICY_BYTES} bytes (1 MB)`,
      );
    }
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** The file is readable but not something to read as a policy; the message says why. */
class PolicyFileRefused extends Error {}

/** Reads and checks the policy file at `file` (IAM_POLICY_FILE); throws PolicyError when it is not usable. */
export function loadPolicy(
  file: string,
  defaults: PolicyDefaults,
  readFile: (path: string) => string = readPolicyFile,
): Policy {
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const message =
      error instanceof PolicyFileRefused
        ? error.message
        : (READ_FAILURES[code] ?? `cannot be read (${code || (error as Error).message})`);
    throw new PolicyError([{ file, line: 0, key: 'file', message }]);
  }
  return parsePolicy(text, file, defaults);
}
