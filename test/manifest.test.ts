import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { describeWithDocument, SLACK_MANIFEST_SCHEMA } from './support/shared-documents';

interface Manifest {
  features: {
    slash_commands: { command: string; should_escape: boolean }[];
    app_home: { home_tab_enabled: boolean };
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { bot_events: string[] };
    interactivity: { is_enabled: boolean };
    socket_mode_enabled: boolean;
  };
}

const root = path.resolve(__dirname, '..');
const manifest = parse(fs.readFileSync(path.join(root, 'manifest.yml'), 'utf8')) as Manifest;
const registered = fs.readFileSync(path.join(root, 'src/handlers/index.ts'), 'utf8');

describe('manifest.yml', () => {
  it('declares exactly the slash commands the bot listens to, unescaped', () => {
    const commands = manifest.features.slash_commands.map((c) => c.command).sort();
    const listened = [...registered.matchAll(/app\.command\('([^']+)'/g)].map((m) => m[1]).sort();
    expect(commands).toEqual(listened);
    expect(commands).toEqual([
      '/iam-audit',
      '/iam-create-user',
      '/iam-disable-user',
      '/iam-enable-user',
      '/iam-get-user',
      '/iam-grant',
      '/iam-revoke',
      '/iam-update-user',
    ]);
    expect(manifest.features.slash_commands.every((c) => c.should_escape === false)).toBe(true);
  });

  it('asks for the bot scopes the bot uses and no more', () => {
    // commands: slash commands; chat:write: results and approvals; users:read: admin/guest checks;
    // usergroups:read: IAM_OPERATORS / IAM_APPROVERS may name user groups; users:read.email: /iam-grant
    // and /iam-revoke find a member's Atlassian account by their Slack profile's email.
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([
      'chat:write',
      'commands',
      'usergroups:read',
      'users:read',
      'users:read.email',
    ]);
  });

  it('enables interactivity, Socket Mode, the Home tab and its event', () => {
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(['app_home_opened']);
    expect(registered).toContain("app.event('app_home_opened'");
  });
});

// Slack's published schema (slackapi/manifest-schema), read from ../shared or SLACK_MANIFEST_SCHEMA_PATH.
describeWithDocument(SLACK_MANIFEST_SCHEMA, "manifest.yml against Slack's manifest schema", (file) => {
  it('is a manifest Slack accepts', () => {
    // strict: false, because the schema carries annotations of its own (e.g. `_note`).
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(fs.readFileSync(file, 'utf8')) as object);
    expect(validate(manifest) ? [] : validate.errors).toEqual([]);
  });
});
