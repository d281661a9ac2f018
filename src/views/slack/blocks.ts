/** Small Block Kit constructors that apply the limits, so the surface modules read as layouts. */
import type {
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from '@slack/types';
import { showInvisible } from '../invisible';
import { truncate, truncateMrkdwn } from './escape';
import { LIMITS } from './limits';

/** A plain_text object (shown literally: no escaping needed), cut to `max`; never empty. */
export function plain(text: string, max: number): PlainTextElement {
  return {
    type: 'plain_text',
    text: truncate(text.trim() === '' ? '—' : showInvisible(text), max),
    emoji: true,
  };
}

/** A mrkdwn object; `text` must already be escaped where it carries user text. */
export function md(text: string, max: number = LIMITS.textObject): MrkdwnElement {
  return { type: 'mrkdwn', text: truncateMrkdwn(text.trim() === '' ? '—' : text, max) };
}

export function header(text: string): HeaderBlock {
  return { type: 'header', text: plain(text, LIMITS.headerText) };
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: md(text, LIMITS.sectionText) };
}

/** A section of label/value fields (at most 10; each already escaped mrkdwn). */
export function fields(items: string[]): SectionBlock {
  return {
    type: 'section',
    fields: items.slice(0, LIMITS.sectionFields).map((item) => md(item, LIMITS.sectionFieldText)),
  };
}

export function context(...texts: string[]): ContextBlock {
  return {
    type: 'context',
    elements: texts.slice(0, LIMITS.contextElements).map((text) => md(text, LIMITS.textObject)),
  };
}

export const divider = (): DividerBlock => ({ type: 'divider' });

export const SANDBOX_TEXT =
  ':test_tube: *SANDBOX*: this is the embedded sandbox directory, not the real Atlassian organisation.';

/** The loud SANDBOX line every surface carries while the sandbox directory is in use. */
export function sandboxContext(): ContextBlock {
  return context(SANDBOX_TEXT);
}

/** Prefix of a top-level `text` fallback in sandbox mode. */
export const sandboxPrefix = (sandbox: boolean): string => (sandbox ? '[SANDBOX] ' : '');
