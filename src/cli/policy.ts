/**
 * `atlassian-iam policy check FILE`: checks a policy file (the format of IAM_POLICY_FILE, docs/POLICY.md)
 * and prints the rules in effect, with the defaults this environment gives (IAM_APPROVERS,
 * IAM_OPERATORS, IAM_APPROVAL_TTL). It reads the file and the configuration; it changes nothing.
 */
import { parseFlags } from './args';
import type { CliIo } from './io';
import { EXIT, reportCliError } from './errors';
import { loadConfig, loadDotenv } from '../config';
import { formatProblem, loadPolicy, PolicyError } from '../policy';
import { terminalSafe } from '../views/audit-table';
import { policyTable } from '../views/policy-table';
import { renderRecords, renderTextTable, terminalWidth, widestLine } from '../views/table';

export const POLICY_HELP = `Usage: atlassian-iam policy check FILE

Checks an approval policy file (YAML, for IAM_POLICY_FILE) and prints the rules it sets: file rules in
order (the first that matches a request wins), then the built-in defaults, with approvers and expiry
from IAM_APPROVERS and IAM_APPROVAL_TTL where a rule leaves them out. The bot applies the file named by
IAM_POLICY_FILE to its Slack approvals; what it does not apply yet is listed in docs/POLICY.md.

The rules are a table when it fits the terminal (100 columns when not a terminal), else one block per
rule. Problems are printed one per line as FILE:LINE: KEY: message. The format is in docs/POLICY.md.

Exit status: 0 the file is valid, 2 it is not (or bad arguments or configuration).`;

class PolicyUsageError extends Error {}

function fileArgument(argv: string[]): string | 'help' {
  let parsed;
  try {
    parsed = parseFlags(argv, { help: { type: 'boolean', short: 'h' } });
  } catch (error) {
    throw new PolicyUsageError(`${(error as Error).message}; run atlassian-iam policy --help`);
  }
  const [subcommand, file, ...extra] = parsed.positionals;
  if (parsed.values.help || subcommand === undefined) return 'help';
  if (subcommand !== 'check') {
    throw new PolicyUsageError(`unknown policy command "${subcommand}"; run atlassian-iam policy --help`);
  }
  if (file === undefined)
    throw new PolicyUsageError('policy check needs a FILE, e.g. policy check policy.yaml');
  if (extra.length > 0) throw new PolicyUsageError(`unexpected argument "${extra[0]}"`);
  return file;
}

/** Runs `atlassian-iam policy <argv>`; returns the exit status. Never throws. */
export function runPolicyCommand(argv: string[], io: CliIo): number {
  try {
    const file = fileArgument(argv);
    if (file === 'help') {
      io.out(POLICY_HELP + '\n');
      return EXIT.success;
    }
    loadDotenv();
    const table = policyTable(loadPolicy(file, loadConfig().slack));
    const maxWidth = terminalWidth(io.outColumns?.());
    const text = renderTextTable(table);
    io.out((widestLine(text) <= maxWidth ? text : renderRecords(table, maxWidth)) + '\n');
    return EXIT.success;
  } catch (error) {
    if (!(error instanceof PolicyError)) {
      return reportCliError(error, io.err, 'atlassian-iam policy', [PolicyUsageError]);
    }
    io.err(error.problems.map((problem) => terminalSafe(formatProblem(problem)) + '\n').join(''));
    return EXIT.badInput;
  }
}
