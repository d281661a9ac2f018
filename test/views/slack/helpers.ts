import type { KnownBlock } from '@slack/types';
import { buildResult, type IamResult } from '../../../src/iam/result';
import type { ApprovalCard } from '../../../src/views/slack';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Every mrkdwn text object's text inside `value`. */
export function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (!isObject(value)) return [];
  const own = value.type === 'mrkdwn' && typeof value.text === 'string' ? [value.text] : [];
  return [...own, ...Object.values(value).flatMap(mrkdwnTexts)];
}

/** Every string anywhere inside `value` (plain_text, raw_text, values…). */
export function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (!isObject(value)) return [];
  return Object.values(value).flatMap(allStrings);
}

export const blocksOfType = <T extends KnownBlock['type']>(blocks: KnownBlock[], type: T) =>
  blocks.filter((block): block is Extract<KnownBlock, { type: T }> => block.type === type);

export const INSTANCE = 'Atlassian IAM_instance_1';

export const user = {
  id: 'u-1',
  userName: 'jane@example.com',
  name: { givenName: 'Jane', familyName: 'Doe' },
  displayName: 'Jane Doe',
  emails: [{ value: 'jane@example.com', type: 'work', primary: true }],
  active: true,
};

export function success(action: 'create' | 'update' | 'get' | 'disable' | 'enable' = 'create'): IamResult {
  return buildResult({ action, instanceName: INSTANCE, profile: { email: 'jane@example.com' }, user });
}

export function skipped(): IamResult {
  return buildResult({
    action: 'disable',
    instanceName: INSTANCE,
    profile: { email: 'x@example.com' },
    skippedReason: 'User does not exist',
  });
}

export function failure(): IamResult {
  return buildResult({
    action: 'get',
    instanceName: INSTANCE,
    profile: { email: 'x@example.com' },
    error: { status: 404, message: 'User does not exist' },
  });
}

export function card(overrides: Partial<ApprovalCard> = {}): ApprovalCard {
  return {
    id: 'req-1',
    requesterId: 'U0REQ',
    target: 'jane@example.com',
    reason: 'left',
    status: 'pending',
    createdAt: new Date('2025-01-15T09:30:00Z'),
    expiresAt: new Date('2025-01-16T09:30:00Z'),
    decidedBy: null,
    decidedAt: null,
    currentActive: true,
    currentId: 'u-1',
    ...overrides,
  };
}
