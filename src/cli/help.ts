/** The help texts of the iam-* command line: the global one and one per command. */
import { type CommandName, PROFILE_KEYS, SCIM_PREFIX } from '../iam';

/** `where`: the line that says which database this installation uses (DATABASE_URL). */
export function globalHelp(where: string): string {
  return `Usage: atlassian-iam <command> [--user-profile JSON|EMAIL] [--allow-enable BOOL] [--group NAME] [--json]
       atlassian-iam <command> --help      that command's profile keys and an example

Commands (XSOAR names; the short names work too):
  iam-create-user     (create-user)   create a user, or update it if it exists
  iam-update-user     (update-user)   update a user; creates it if not found (IAM_CREATE_IF_NOT_FOUND)
  iam-get-user        (get-user)      look a user up by id, username/email or employeeid
  iam-disable-user    (disable-user)  deactivate a user (reversible); with --at, at that time
  iam-enable-user     (enable-user)   re-activate a user
  iam-get-groups      (get-groups)    list the directory's groups, or one user's (--user-profile)
  iam-add-to-group    (add-to-group)  add a user to a group (--user-profile, --group NAME)
  iam-remove-from-group (remove-from-group)
                                      remove a user from a group (--user-profile, --group NAME)
  test-module         (test)          check the connection to the directory
  get-mapping-fields                  list the directory's user schema attributes
  run-scheduled                       carry out the scheduled disables that are due and end expired
                                      grants (for installations without a bot; a bot does it on its own)
  audit                               read the audit log (atlassian-iam audit --help)
  bulk <operation> FILE.csv           create, update, disable or enable every user of a CSV file, or
                                      add them to (remove them from) groups
                                      (atlassian-iam bulk --help)
  policy check FILE                   check an approval policy file (atlassian-iam policy --help)

Options:
  --user-profile JSON    the user profile, e.g. '{"email":"jane@example.com","title":"Engineer"}',
                         or a bare email: --user-profile jane@example.com
  --allow-enable BOOL    create/update may re-activate an inactive user (true/false, yes/no, on/off,
                         1/0; default true)
  --at TIME              iam-disable-user: store the disable for TIME instead of now, e.g.
                         "2026-12-31 17:00" (this machine's time zone), "2026-12-31 17:00 Europe/Berlin",
                         "2026-12-31 17:00 +01:00" or "in 2h" (m, h, d); at most the policy rule's
                         maxScheduleAhead ahead (IAM_POLICY_FILE; 90 days without one)
  --reason TEXT          why (kept with a scheduled disable)
  --group NAME           the group of iam-add-to-group and iam-remove-from-group
  --json                 print the outcome as one JSON object, errors included
  --dry-run              write commands: print what would change (before → after), send no write
  -h, --help             show this help

Exit status: 0 success (skips included), 1 the operation failed, 2 bad input or configuration.
Configuration comes from the environment and .env; see docs/CONFIGURATION.md. With no Atlassian
credentials the commands run against a local SANDBOX directory.
${where}`;
}

interface CommandText {
  summary: string;
  /** The profile keys it reads; empty: it takes no profile. */
  keys: string;
  example: string;
}

const IDENTIFIERS = 'email (or username), employeeid or id: the first one given finds the user';
const WRITABLE = PROFILE_KEYS.filter((key) => key !== 'olduserdata' && key !== 'groups').join(', ');

const TEXTS: Record<CommandName, CommandText> = {
  'iam-create-user': {
    summary: 'Creates the user, or updates it when the email/username exists already.',
    keys: `${WRITABLE}; groups (a list of group names)`,
    example: `--user-profile '{"email":"jane@example.com","givenname":"Jane","surname":"Doe","title":"Engineer"}'`,
  },
  'iam-update-user': {
    summary:
      'Updates the user found by the identifiers (olduserdata gives the previous ones when they change);\n' +
      'creates it when it is not found and IAM_CREATE_IF_NOT_FOUND is true.',
    keys: `${WRITABLE}; olduserdata (an object of the previous values)`,
    example: `--user-profile '{"email":"jane@example.com","title":"Team Lead"}'`,
  },
  'iam-get-user': {
    summary: 'Looks the user up and prints what the directory holds.',
    keys: IDENTIFIERS,
    example: '--user-profile jane@example.com',
  },
  'iam-disable-user': {
    summary: 'Deactivates the user (reversible with iam-enable-user).',
    keys: IDENTIFIERS,
    example: '--user-profile jane@example.com',
  },
  'iam-enable-user': {
    summary: 'Re-activates the user.',
    keys: IDENTIFIERS,
    example: '--user-profile jane@example.com',
  },
  'iam-get-groups': {
    summary: "Lists the directory's groups, or with --user-profile the groups of that user.",
    keys: IDENTIFIERS,
    example: '--user-profile jane@example.com',
  },
  'iam-add-to-group': {
    summary: 'Adds the user to the group named by --group NAME.',
    keys: IDENTIFIERS,
    example: '--user-profile jane@example.com --group jira-software-users',
  },
  'iam-remove-from-group': {
    summary: 'Removes the user from the group named by --group NAME.',
    keys: IDENTIFIERS,
    example: '--user-profile jane@example.com --group jira-software-users',
  },
  'test-module': {
    summary:
      'Checks the connection to the directory (Atlassian, or the sandbox). Takes no options but --json.',
    keys: '',
    example: '',
  },
  'run-scheduled': {
    summary:
      'Carries out the scheduled disables that are due (iam-disable-user --at) and ends the grants whose\n' +
      'time is up, for installations without a bot; a bot does it on its own. Takes no options but --json.',
    keys: '',
    example: '',
  },
  'get-mapping-fields': {
    summary: "Lists the directory's user schema attributes. Takes no options but --json.",
    keys: '',
    example: '',
  },
};

/** Text folded into lines of at most `width` characters, at spaces. */
function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line].join('\n');
}

/** The help of one command: what it does, its profile keys and an example. */
export function commandHelp(command: CommandName): string {
  const text = TEXTS[command];
  if (text.keys === '') return `Usage: atlassian-iam ${command} [--json]\n\n${text.summary}`;
  const writes = command === 'iam-create-user' || command === 'iam-update-user';
  const grouped = command === 'iam-add-to-group' || command === 'iam-remove-from-group';
  const disable = command === 'iam-disable-user';
  const options = [
    ...(writes ? ['  --allow-enable BOOL    may re-activate an inactive user (default true)'] : []),
    ...(grouped ? ['  --group NAME           the group'] : []),
    ...(disable
      ? [
          '  --at TIME              disable at TIME instead of now ("2026-12-31 17:00", "in 2h")',
          '  --reason TEXT          why (kept with a scheduled disable)',
        ]
      : []),
    ...(writes || disable || command === 'iam-enable-user'
      ? ['  --dry-run              print what would change, send no write']
      : []),
  ];
  const extra = options.map((line) => `\n${line}`).join('');
  const flag = writes ? ' [--allow-enable BOOL]' : grouped ? ' --group NAME' : disable ? ' [--at TIME]' : '';
  return `Usage: atlassian-iam ${command} --user-profile JSON|EMAIL${flag} [--json]

${text.summary}

${wrap(`Profile keys (case-insensitive): ${text.keys}.`)}
A bare email stands for {"email": EMAIL}. SCIM attribute names (userName, emails, name, externalId,
phoneNumbers, active) pass as they are; any other SCIM attribute goes as "${SCIM_PREFIX}NAME", and keys an
outgoing mapper file (IAM_OUTGOING_MAPPER) reads are accepted. Any other key is refused.

Options:
  --user-profile JSON    the user profile (a JSON object), or a bare email${extra}
  --json                 print the outcome as one JSON object, errors included

Example:
  atlassian-iam ${command} ${text.example}`;
}
