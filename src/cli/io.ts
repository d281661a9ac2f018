/** What every subcommand writes to: the terminal's two streams and what is known about them. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal (bulk draws its progress bar there). */
  errIsTty?: boolean;
  /** stderr's width when it is a terminal. */
  errColumns?: () => number | undefined;
  /** stdout's width when it is a terminal (tables fit it; 100 columns otherwise). */
  outColumns?: () => number | undefined;
}

/** The stderr line of every command that works on the sandbox directory (`location`: its file). */
export const sandboxNotice = (location: string | null): string =>
  `SANDBOX: no Atlassian credentials are set, so this runs against the local sandbox directory in ${location}. ` +
  'Set ATLASSIAN_ACCESS_TOKEN and ATLASSIAN_DIRECTORY_ID to use Atlassian.\n';
