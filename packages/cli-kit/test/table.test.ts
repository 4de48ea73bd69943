import { describe, expect, it } from 'vitest';
import { displayWidth, formatKeyValues, formatTable, terminalWidth, wrapText } from '../src/index';

const rows = [
  ['✓', 'OptoMMP: uptime (seed script 1)', 'uptime 42 ms since power-up, firmware R4.1c', '12 ms'],
  ['✗', 'Bus: expect a prompt', 'FAILED: Timeout: no prompt within 2000 ms from 127.0.0.1:5025', '2001 ms'],
];
const head = ['', 'step', 'result', 'time'];
const widest = (text: string) => Math.max(...text.split('\n').map(displayWidth));

describe('formatTable', () => {
  it('prints a table as is when it fits', () => {
    const t = formatTable(rows, { head, width: 140, align: ['left', 'left', 'left', 'right'] });
    const lines = t.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^ {3}step +result +time$/);
    expect(lines[1]).toMatch(/^─ +─+ +─+ +─+$/);
    expect(lines[2]).toMatch(/ 12 ms$/);
    expect(widest(t)).toBeLessThanOrEqual(140);
  });

  it('wraps the last column on a terminal of 100 columns or more', () => {
    const long = [['k', 'a value that goes on and on '.repeat(6).trim()]];
    const t = formatTable(long, { width: 100 });
    expect(widest(t)).toBeLessThanOrEqual(100);
    expect(t.split('\n').length).toBeGreaterThan(1);
    expect(t.split('\n')[0]).toMatch(/^k {2}a value/);
    expect(t.split('\n')[1]).toMatch(/^ {3}\S/);
  });

  it('goes vertical below 100 columns, never wider than the terminal', () => {
    for (const width of [80, 60, 40]) {
      const t = formatTable(rows, { head, width, titleColumns: 2, align: ['left', 'left', 'left', 'right'] });
      expect(widest(t), t).toBeLessThanOrEqual(width);
      expect(t).toContain('✓ OptoMMP: uptime (seed script 1)');
      expect(t).toMatch(/ {2}result {2}uptime 42 ms/);
      expect(t).toMatch(/ {2}time {4}2001 ms/);
    }
  });

  it('counts wide characters as two cells', () => {
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('é')).toBe(1);
    expect(wrapText('日本語のテキスト', 6)).toEqual(['日本語', 'のテキ', 'スト']);
  });

  it('formats key/value lists and wraps long values', () => {
    const t = formatKeyValues(
      [
        ['firmware version', 'R4.1c'],
        ['part number', 'GRV-EPIC-PR1 '.repeat(10).trim()],
      ],
      60,
    );
    expect(widest(t)).toBeLessThanOrEqual(60);
    expect(t.split('\n')[0]).toBe('firmware version  R4.1c');
  });

  it('terminalWidth: the terminal, else $COLUMNS, else 80', () => {
    expect(terminalWidth({ isTTY: true, columns: 132 }, {})).toBe(132);
    expect(terminalWidth({ isTTY: false }, { COLUMNS: '90' })).toBe(90);
    expect(terminalWidth(undefined, {})).toBe(80);
  });
});
