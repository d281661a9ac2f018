/**
 * Checkers that list every way a message or view breaks a Block Kit limit (src/views/slack/limits.ts):
 * the view tests run every builder's output through them.
 */
import type { HomeView, ModalView } from '@slack/types';
import { LIMITS, type SlackMessage } from '../../src/views/slack';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

class Checker {
  readonly problems: string[] = [];
  private blockIds = new Set<string>();

  fail(where: string, problem: string): void {
    this.problems.push(`${where}: ${problem}`);
  }

  max(where: string, value: string | undefined, max: number, required = true): void {
    if (value === undefined) {
      if (required) this.fail(where, 'missing');
      return;
    }
    if (value.length === 0 && required) this.fail(where, 'empty');
    if (value.length > max) this.fail(where, `${value.length} chars > ${max}`);
  }

  textObject(where: string, value: unknown, max: number, types: string[] = ['plain_text', 'mrkdwn']): void {
    if (!isObject(value)) return this.fail(where, 'missing text object');
    if (!types.includes(str(value.type) ?? ''))
      this.fail(where, `type ${String(value.type)} not in ${types}`);
    this.max(`${where}.text`, str(value.text), max);
  }

  blockId(where: string, block: Json): void {
    const id = str(block.block_id);
    if (id === undefined) return;
    this.max(`${where}.block_id`, id, LIMITS.blockId);
    if (this.blockIds.has(id)) this.fail(`${where}.block_id`, `duplicate ${id}`);
    this.blockIds.add(id);
  }

  confirm(where: string, value: unknown): void {
    if (value === undefined) return;
    if (!isObject(value)) return this.fail(where, 'not an object');
    if (value.title !== undefined)
      this.textObject(`${where}.title`, value.title, LIMITS.confirmTitle, ['plain_text']);
    this.textObject(`${where}.text`, value.text, LIMITS.confirmText);
    if (value.confirm !== undefined)
      this.textObject(`${where}.confirm`, value.confirm, LIMITS.confirmButton, ['plain_text']);
    if (value.deny !== undefined)
      this.textObject(`${where}.deny`, value.deny, LIMITS.confirmButton, ['plain_text']);
  }

  placeholder(where: string, element: Json): void {
    if (element.placeholder !== undefined)
      this.textObject(`${where}.placeholder`, element.placeholder, LIMITS.inputPlaceholder, ['plain_text']);
  }

  options(where: string, options: unknown): void {
    if (!Array.isArray(options)) return this.fail(where, 'missing options');
    if (options.length === 0) this.fail(where, 'no options');
    if (options.length > LIMITS.checkboxOptions)
      this.fail(where, `${options.length} options > ${LIMITS.checkboxOptions}`);
    options.forEach((option: unknown, i) => {
      if (!isObject(option)) return this.fail(`${where}[${i}]`, 'not an object');
      this.textObject(`${where}[${i}].text`, option.text, LIMITS.optionText);
      this.max(`${where}[${i}].value`, str(option.value), LIMITS.optionValue);
    });
  }

  element(where: string, element: unknown): void {
    if (!isObject(element)) return this.fail(where, 'not an object');
    this.max(`${where}.action_id`, str(element.action_id), LIMITS.actionId);
    switch (element.type) {
      case 'button':
        this.textObject(`${where}.text`, element.text, LIMITS.buttonText, ['plain_text']);
        if (element.value !== undefined) this.max(`${where}.value`, str(element.value), LIMITS.buttonValue);
        this.confirm(`${where}.confirm`, element.confirm);
        break;
      case 'plain_text_input': {
        const maxLength =
          typeof element.max_length === 'number' ? element.max_length : LIMITS.plainTextInputLength;
        if (maxLength > LIMITS.plainTextInputLength)
          this.fail(`${where}.max_length`, `${maxLength} > ${LIMITS.plainTextInputLength}`);
        if (element.initial_value !== undefined)
          this.max(`${where}.initial_value`, str(element.initial_value), maxLength, false);
        this.placeholder(where, element);
        break;
      }
      case 'email_text_input':
        this.placeholder(where, element);
        break;
      case 'checkboxes':
      case 'radio_buttons':
        this.options(`${where}.options`, element.options);
        break;
      default:
        this.fail(where, `element type ${String(element.type)} is not one these views use`);
    }
  }

  tableCell(where: string, cell: unknown): void {
    if (!isObject(cell)) return this.fail(where, 'not an object');
    if (cell.type === 'raw_text') {
      const text = str(cell.text);
      if (text === undefined || text.trim() === '') this.fail(where, 'empty raw_text cell');
    } else if (cell.type !== 'rich_text' && cell.type !== 'raw_number') {
      this.fail(where, `cell type ${String(cell.type)}`);
    }
  }

  block(where: string, block: unknown, surface: 'message' | 'view'): void {
    if (!isObject(block)) return this.fail(where, 'not an object');
    this.blockId(where, block);
    switch (block.type) {
      case 'header':
        this.textObject(`${where}.text`, block.text, LIMITS.headerText, ['plain_text']);
        break;
      case 'section': {
        if (block.text === undefined && block.fields === undefined)
          this.fail(where, 'neither text nor fields');
        if (block.text !== undefined) this.textObject(`${where}.text`, block.text, LIMITS.sectionText);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) return this.fail(`${where}.fields`, 'not an array');
          if (block.fields.length > LIMITS.sectionFields)
            this.fail(`${where}.fields`, `${block.fields.length} > ${LIMITS.sectionFields}`);
          block.fields.forEach((field: unknown, i) =>
            this.textObject(`${where}.fields[${i}]`, field, LIMITS.sectionFieldText),
          );
        }
        if (block.accessory !== undefined) this.element(`${where}.accessory`, block.accessory);
        break;
      }
      case 'context': {
        const elements = Array.isArray(block.elements) ? block.elements : [];
        if (elements.length === 0) this.fail(`${where}.elements`, 'empty');
        if (elements.length > LIMITS.contextElements)
          this.fail(`${where}.elements`, `${elements.length} > ${LIMITS.contextElements}`);
        elements.forEach((element: unknown, i) =>
          this.textObject(`${where}.elements[${i}]`, element, LIMITS.textObject),
        );
        break;
      }
      case 'actions': {
        const elements = Array.isArray(block.elements) ? block.elements : [];
        if (elements.length === 0) this.fail(`${where}.elements`, 'empty');
        if (elements.length > LIMITS.actionsElements)
          this.fail(`${where}.elements`, `${elements.length} > ${LIMITS.actionsElements}`);
        elements.forEach((element: unknown, i) => this.element(`${where}.elements[${i}]`, element));
        break;
      }
      case 'divider':
        break;
      case 'table': {
        if (surface === 'view') this.fail(where, 'table blocks are not allowed in modals or the Home tab');
        const rows = Array.isArray(block.rows) ? block.rows : [];
        if (rows.length === 0) this.fail(`${where}.rows`, 'empty');
        if (rows.length > LIMITS.tableRows)
          this.fail(`${where}.rows`, `${rows.length} > ${LIMITS.tableRows}`);
        const width = Array.isArray(rows[0]) ? rows[0].length : 0;
        rows.forEach((row: unknown, r) => {
          if (!Array.isArray(row)) return this.fail(`${where}.rows[${r}]`, 'not an array');
          if (row.length === 0) this.fail(`${where}.rows[${r}]`, 'empty row');
          if (row.length > LIMITS.tableCells)
            this.fail(`${where}.rows[${r}]`, `${row.length} cells > ${LIMITS.tableCells}`);
          if (row.length !== width)
            this.fail(`${where}.rows[${r}]`, `${row.length} cells, first row has ${width}`);
          row.forEach((cell: unknown, c) => this.tableCell(`${where}.rows[${r}][${c}]`, cell));
        });
        if (Array.isArray(block.column_settings) && block.column_settings.length > LIMITS.tableColumnSettings)
          this.fail(
            `${where}.column_settings`,
            `${block.column_settings.length} > ${LIMITS.tableColumnSettings}`,
          );
        break;
      }
      case 'input': {
        if (surface === 'message') this.fail(where, 'input blocks belong in modals');
        this.textObject(`${where}.label`, block.label, LIMITS.inputLabel, ['plain_text']);
        if (block.hint !== undefined)
          this.textObject(`${where}.hint`, block.hint, LIMITS.inputHint, ['plain_text']);
        this.element(`${where}.element`, block.element);
        break;
      }
      default:
        this.fail(where, `block type ${String(block.type)} is not one these views use`);
    }
  }

  blocks(blocks: unknown, max: number, surface: 'message' | 'view'): void {
    if (!Array.isArray(blocks)) return this.fail('blocks', 'not an array');
    if (blocks.length === 0) this.fail('blocks', 'empty');
    if (blocks.length > max) this.fail('blocks', `${blocks.length} blocks > ${max}`);
    blocks.forEach((block: unknown, i) => this.block(`blocks[${i}]`, block, surface));
  }
}

/** Total length of every `text` string inside the blocks (what Slack's ~12k `msg_blocks_too_long` limit counts). */
export function blockTextLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + blockTextLength(item), 0);
  if (!isObject(value)) return 0;
  return Object.entries(value).reduce(
    (sum, [key, inner]) =>
      sum + (key === 'text' && typeof inner === 'string' ? inner.length : blockTextLength(inner)),
    0,
  );
}

/** Every way `message` breaks a Block Kit limit (empty when it is fine). */
export function checkMessageLimits(message: SlackMessage): string[] {
  const checker = new Checker();
  checker.max('text', message.text, LIMITS.fallbackText);
  checker.blocks(message.blocks, LIMITS.messageBlocks, 'message');
  const tables = message.blocks.filter((block) => block.type === 'table').length;
  if (tables > LIMITS.tablesPerMessage)
    checker.fail('blocks', `${tables} table blocks > ${LIMITS.tablesPerMessage}`);
  const total = blockTextLength(message.blocks);
  if (total > LIMITS.messageBlockText)
    checker.fail('blocks', `${total} chars of block text > ${LIMITS.messageBlockText}`);
  return checker.problems;
}

/** Every way a modal or Home tab view breaks a Block Kit limit (empty when it is fine). */
export function checkViewLimits(view: ModalView | HomeView): string[] {
  const checker = new Checker();
  if (view.type === 'modal') {
    checker.textObject('title', view.title, LIMITS.modalTitle, ['plain_text']);
    if (view.submit !== undefined)
      checker.textObject('submit', view.submit, LIMITS.modalButton, ['plain_text']);
    if (view.close !== undefined) checker.textObject('close', view.close, LIMITS.modalButton, ['plain_text']);
  } else if (view.type !== 'home') {
    checker.fail('type', `unknown view type ${String((view as { type: unknown }).type)}`);
  }
  if (view.private_metadata !== undefined)
    checker.max('private_metadata', view.private_metadata, LIMITS.privateMetadata, false);
  if (view.callback_id !== undefined) checker.max('callback_id', view.callback_id, LIMITS.callbackId);
  checker.blocks(view.blocks, LIMITS.viewBlocks, 'view');
  return checker.problems;
}
