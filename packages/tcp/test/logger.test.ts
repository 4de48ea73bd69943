// Loggers as the ecosystem writes them: labwire calls `(message, fields)`; pino takes `(fields, message)`.
// A real pino logger (writing JSON lines to a memory stream) must receive every structured field.
import { Writable } from 'node:stream';
import { TcpInterface, toLogger } from '@labwire/tcp';
import { nextEvent } from '@labwire/testkit';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { fieldsFirst, isFieldsFirstLogger } from '../src/logger';
import { fast, freePort } from './helpers';

function memoryPino() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('loggers', () => {
  it('a pino logger gets the message and every field of a connect failure', async () => {
    const { logger, lines } = memoryPino();
    const port = await freePort();
    await using tcp = new TcpInterface('127.0.0.1', port, {
      ...fast,
      reconnect: false,
      logger,
      linkId: 'dmm',
    });
    await nextEvent(tcp, 'error');
    await new Promise<void>((resolve) => setImmediate(resolve));
    const failed = lines.find((l) => l.msg === 'tcp: connect failed');
    expect(failed).toMatchObject({
      level: 40,
      host: '127.0.0.1',
      port,
      code: 'ConnectRefused',
      linkId: 'dmm',
    });
    expect(String(failed?.error)).toContain('refused');
  });

  it('a pino child logger is detected too; a (message, fields) logger is used as it is', () => {
    const { logger, lines } = memoryPino();
    const child = logger.child({ component: 'tcp' });
    expect(isFieldsFirstLogger(logger)).toBe(true);
    expect(isFieldsFirstLogger(child)).toBe(true);
    toLogger(child).info('hello', { answer: 42 });
    expect(lines.at(-1)).toMatchObject({ msg: 'hello', answer: 42, component: 'tcp', level: 30 });
    const plain = { debug() {}, info() {}, warn() {}, error() {} };
    expect(isFieldsFirstLogger(plain)).toBe(false);
    expect(isFieldsFirstLogger(console)).toBe(false);
    expect(toLogger(plain)).toBe(plain);
    expect(toLogger(console)).toBe(console);
  });

  it('fieldsFirst adapts any (fields, message) logger by hand', () => {
    const calls: unknown[][] = [];
    const bunyanLike = {
      debug: (...a: unknown[]) => calls.push(['debug', ...a]),
      info: (...a: unknown[]) => calls.push(['info', ...a]),
      warn: (...a: unknown[]) => calls.push(['warn', ...a]),
      error: (...a: unknown[]) => calls.push(['error', ...a]),
    };
    const logger = fieldsFirst(bunyanLike);
    logger.warn('tcp: connect failed', { port: 1 });
    logger.debug('no fields');
    expect(calls).toEqual([
      ['warn', { port: 1 }, 'tcp: connect failed'],
      ['debug', {}, 'no fields'],
    ]);
  });
});
