/**
 * Block Kit limits (Slack's documented maxima). The builders stay inside these limits by construction;
 * test/support/block-kit-limits.ts lists every violation of a message or view, for the tests and for
 * anyone adding a new surface.
 */
import type { KnownBlock } from '@slack/types';

export const LIMITS = {
  /** Blocks in one message. */
  messageBlocks: 50,
  /** Blocks in a modal or the Home tab. */
  viewBlocks: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  /** Any other text object (context element, …). */
  textObject: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  optionText: 75,
  optionValue: 150,
  inputLabel: 2000,
  inputHint: 2000,
  inputPlaceholder: 150,
  plainTextInputLength: 3000,
  checkboxOptions: 10,
  tableRows: 100,
  tableCells: 20,
  tableColumnSettings: 20,
  tablesPerMessage: 1,
  /**
   * Slack refuses messages whose block text passes about 12,000 characters (`msg_blocks_too_long`);
   * our own budget stays well below that.
   */
  messageBlockText: 10000,
  /** Top-level `text` fallback: Slack truncates at 40,000; we keep it short. */
  fallbackText: 4000,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
} as const;

/** A message as the builders return it: `text` fallback plus blocks (for chat.postMessage, chat.update, respond). */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}
