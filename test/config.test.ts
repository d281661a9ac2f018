import { ConfigError, dataDirectory, describeDatabase, loadConfig, parseDuration } from '../src/config';

const noFiles = (file: string): string => {
  throw new Error(`unexpected read of ${file}`);
};

function problemsOf(env: Record<string, string>, readFile = noFiles): string[] {
  try {
    loadConfig(env, readFile);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs the sandbox with defaults when no Atlassian credentials are set', () => {
    const config = loadConfig({}, noFiles);
    expect(config.directory).toEqual({ mode: 'sandbox', timeoutMs: 10_000 });
    expect(config.commands).toEqual({
      createEnabled: true,
      updateEnabled: true,
      disableEnabled: true,
      enableEnabled: true,
      createIfNotFound: true,
    });
    expect(config.instanceName).toBe('Atlassian IAM_instance_1');
    expect(config.database.kind).toBe('sqlite');
    expect(config.logLevel).toBe('info');
  });

  it('reads an Atlassian connection and tolerates a trailing slash', () => {
    const config = loadConfig(
      {
        ATLASSIAN_URL: 'https://example.test/',
        ATLASSIAN_ACCESS_TOKEN: 'tok',
        ATLASSIAN_DIRECTORY_ID: 'dir-1',
        ATLASSIAN_INSECURE: 'TRUE',
        ATLASSIAN_TIMEOUT: '1500ms',
        IAM_DISABLE_USER_ENABLED: 'false',
      },
      noFiles,
    );
    expect(config.directory).toMatchObject({
      mode: 'atlassian',
      url: 'https://example.test',
      accessToken: 'tok',
      directoryId: 'dir-1',
      insecure: true,
      proxy: null,
      timeoutMs: 1500,
    });
    expect(config.commands.disableEnabled).toBe(false);
    expect(config.secrets).toEqual(['tok']);
  });

  it('reports every bad variable on its own line, naming it', () => {
    const problems = problemsOf({
      ATLASSIAN_URL: 'ftp://x',
      IAM_CREATE_USER_ENABLED: 'maybe',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://x',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'ATLASSIAN_URL: must be an http:// or https:// URL',
        'IAM_CREATE_USER_ENABLED: must be true or false',
        'LOG_LEVEL: must be debug, info, warn or error',
        'DATABASE_URL: must be sqlite:PATH or postgres://…',
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('serves health routes in Socket Mode only when HEALTH_PORT is set, and checks it like PORT', () => {
    expect(loadConfig({}, noFiles).slack.healthPort).toBeNull();
    expect(loadConfig({ HEALTH_PORT: '8081' }, noFiles).slack.healthPort).toBe(8081);
    expect(problemsOf({ HEALTH_PORT: '70000' })).toEqual([
      'HEALTH_PORT: must be a port number from 1 to 65535',
    ]);
  });

  it('never falls back to the sandbox when only one credential is set', () => {
    expect(problemsOf({ ATLASSIAN_ACCESS_TOKEN: 'tok' })).toEqual([
      'ATLASSIAN_DIRECTORY_ID: is required when ATLASSIAN_ACCESS_TOKEN is set (set both for Atlassian, neither for the sandbox)',
    ]);
    expect(problemsOf({ ATLASSIAN_DIRECTORY_ID: 'd' })[0]).toMatch(/^ATLASSIAN_ACCESS_TOKEN: is required/);
  });

  it('reads the token from ATLASSIAN_ACCESS_TOKEN_FILE and refuses both forms at once', () => {
    const config = loadConfig(
      { ATLASSIAN_ACCESS_TOKEN_FILE: '/run/secrets/token', ATLASSIAN_DIRECTORY_ID: 'd' },
      (file) => (file === '/run/secrets/token' ? 'from-file\n' : noFiles(file)),
    );
    expect(config.directory).toMatchObject({ accessToken: 'from-file' });
    expect(
      problemsOf({
        ATLASSIAN_ACCESS_TOKEN: 'a',
        ATLASSIAN_ACCESS_TOKEN_FILE: '/x',
        ATLASSIAN_DIRECTORY_ID: 'd',
      }),
    ).toEqual([
      'ATLASSIAN_ACCESS_TOKEN: set either ATLASSIAN_ACCESS_TOKEN or ATLASSIAN_ACCESS_TOKEN_FILE, not both',
    ]);
  });

  it('says which secret file it cannot read, without its content', () => {
    const problems = problemsOf(
      { ATLASSIAN_ACCESS_TOKEN_FILE: '/missing', ATLASSIAN_DIRECTORY_ID: 'd' },
      () => {
        throw new Error('ENOENT');
      },
    );
    expect(problems).toEqual(['ATLASSIAN_ACCESS_TOKEN_FILE: cannot read the file /missing']);
  });

  it('takes proxy settings only when ATLASSIAN_USE_PROXY is true', () => {
    const base = {
      ATLASSIAN_ACCESS_TOKEN: 't',
      ATLASSIAN_DIRECTORY_ID: 'd',
      HTTPS_PROXY: 'https://proxy:3128',
      NO_PROXY: 'localhost',
    };
    expect(loadConfig(base, noFiles).directory).toMatchObject({ proxy: null });
    expect(loadConfig({ ...base, ATLASSIAN_USE_PROXY: 'true' }, noFiles).directory).toMatchObject({
      proxy: { httpsProxy: 'https://proxy:3128', noProxy: 'localhost' },
    });
  });

  it('treats the database password as a secret, as written and decoded', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://root:s3cr%40t@localhost/test' }, noFiles).secrets).toEqual([
      's3cr%40t',
      's3cr@t',
    ]);
  });

  it('issue 13: every switch reads true/false, yes/no, on/off and 1/0 in any case', () => {
    const switches = (value: string) =>
      loadConfig({ IAM_CREATE_USER_ENABLED: value, IAM_CREATE_IF_NOT_FOUND: value }, noFiles).commands;
    for (const word of ['true', 'YES', 'On', '1', ' on ']) {
      expect(switches(word)).toMatchObject({ createEnabled: true, createIfNotFound: true });
    }
    for (const word of ['false', 'No', 'OFF', '0']) {
      expect(switches(word)).toMatchObject({ createEnabled: false, createIfNotFound: false });
    }
    expect(problemsOf({ IAM_CREATE_USER_ENABLED: 'enabled' })).toEqual([
      'IAM_CREATE_USER_ENABLED: must be true or false',
    ]);
  });
});

describe('finding 9 (issue 10): configuration refuses cleartext', () => {
  const atlassian = { ATLASSIAN_ACCESS_TOKEN: 'tok', ATLASSIAN_DIRECTORY_ID: 'd' };
  const proxied = (proxy: string) => ({ ...atlassian, ATLASSIAN_USE_PROXY: 'yes', HTTPS_PROXY: proxy });

  it.each([
    [
      'ATLASSIAN_URL',
      { ...atlassian, ATLASSIAN_URL: 'http://atlassian.example.com' },
      'atlassian.example.com',
    ],
    ['SLACK_API_URL', { SLACK_API_URL: 'http://slack.example.com/api' }, 'slack.example.com'],
    ['HTTPS_PROXY', proxied('http://proxy.example.com:3128'), 'proxy.example.com:3128'],
    ['HTTPS_PROXY', proxied('proxy.example.com:3128'), 'proxy.example.com:3128'],
    [
      'HTTP_PROXY',
      { ...atlassian, ATLASSIAN_USE_PROXY: 'true', HTTP_PROXY: 'http://10.0.0.1:80' },
      '10.0.0.1',
    ],
  ])('refuses plain http:// in %s to another machine, naming the variable and the fix', (name, env, host) => {
    expect(problemsOf(env)).toEqual([
      `${name}: plain http:// to ${host} would send tokens in cleartext; use https:// (http:// is allowed for loopback hosts only), or set IAM_ALLOW_INSECURE_HTTP=true to accept the risk`,
    ]);
  });

  it.each(['http://127.0.0.1:8080', 'http://127.1.2.3', 'http://localhost:3000', 'http://[::1]:8080'])(
    'accepts plain http:// to the loopback host %s',
    (url) => {
      const config = loadConfig({ ...atlassian, ATLASSIAN_URL: url, SLACK_API_URL: url }, noFiles);
      expect(config.warnings).toEqual([]);
    },
  );

  it('accepts http:// elsewhere only with IAM_ALLOW_INSECURE_HTTP=true, and says so in a warning', () => {
    const config = loadConfig(
      { ...atlassian, ATLASSIAN_URL: 'http://atlassian.example.com', IAM_ALLOW_INSECURE_HTTP: 'true' },
      noFiles,
    );
    expect(config.warnings).toEqual([
      'IAM_ALLOW_INSECURE_HTTP=true: ATLASSIAN_URL (atlassian.example.com) is plain http://, so tokens cross the network in cleartext; use https:// in production',
    ]);
  });

  it('ignores ATLASSIAN_URL and the proxies in the sandbox (no token is sent)', () => {
    expect(loadConfig({ ATLASSIAN_URL: 'http://atlassian.example.com' }, noFiles).directory.mode).toBe(
      'sandbox',
    );
  });

  it('treats the proxy password as a secret', () => {
    const config = loadConfig(proxied('https://me:p%22ss%5Cword@proxy.example.com:3128'), noFiles);
    expect(config.secrets).toEqual(['tok', 'p%22ss%5Cword', 'p"ss\\word']);
  });
});

describe('issue 13: one database per installation', () => {
  it('defaults DATABASE_URL to atlassian-iam.db in ~/.local/share/atlassian-iam, whatever the working directory', () => {
    expect(loadConfig({ HOME: '/home/ann' }, noFiles).database).toEqual({
      kind: 'sqlite',
      path: '/home/ann/.local/share/atlassian-iam/atlassian-iam.db',
    });
  });

  it('uses $XDG_DATA_HOME/atlassian-iam when XDG_DATA_HOME is an absolute path, and ignores a relative one', () => {
    expect(loadConfig({ HOME: '/home/ann', XDG_DATA_HOME: '/data/ann' }, noFiles).database).toEqual({
      kind: 'sqlite',
      path: '/data/ann/atlassian-iam/atlassian-iam.db',
    });
    expect(dataDirectory({ HOME: '/home/ann', XDG_DATA_HOME: 'relative/dir' })).toBe(
      '/home/ann/.local/share/atlassian-iam',
    );
  });

  it('an explicit DATABASE_URL still wins', () => {
    expect(loadConfig({ HOME: '/home/ann', DATABASE_URL: 'sqlite:/srv/iam.db' }, noFiles).database).toEqual({
      kind: 'sqlite',
      path: '/srv/iam.db',
    });
  });

  it('names a PostgreSQL database without its password', () => {
    expect(describeDatabase({ kind: 'postgres', url: 'postgres://iam:s3cret@db:5432/iam' })).toBe(
      'PostgreSQL at db:5432/iam',
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['250ms', 250],
    ['2m', 120_000],
    ['24h', 86_400_000],
    ['5', 5000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
});
