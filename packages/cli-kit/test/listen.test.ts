import { describe, expect, it } from 'vitest';
import { checkListenHost, isLoopbackAddress, UsageError } from '../src/index';

describe('the loopback rule', () => {
  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1'])
      expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', 'localhost'])
      expect(isLoopbackAddress(a), a).toBe(false);
  });

  it('accepts loopback without a word, and names that resolve only to loopback', async () => {
    await expect(checkListenHost('127.0.0.1', { allowRemote: false })).resolves.toBeUndefined();
    await expect(checkListenHost('::1', { allowRemote: false })).resolves.toBeUndefined();
    const lookup = async () => ['127.0.0.1', '::1'];
    await expect(checkListenHost('localhost', { allowRemote: false, lookup })).resolves.toBeUndefined();
  });

  it('refuses another address without --allow-remote (a usage error), warns with it', async () => {
    const refused = checkListenHost('0.0.0.0', { allowRemote: false });
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0: not a loopback address\. Pass --allow-remote/,
    );
    const warning = await checkListenHost('0.0.0.0', { allowRemote: true });
    expect(warning).toMatch(/^warning: listening on 0\.0\.0\.0, which is not a loopback address/);
    const lookup = async () => ['127.0.0.1', '10.1.2.3'];
    await expect(checkListenHost('mixed.example', { allowRemote: false, lookup })).rejects.toThrow(
      /mixed\.example \(127\.0\.0\.1, 10\.1\.2\.3\)/,
    );
  });

  it('a name that does not resolve is a usage error, within its deadline', async () => {
    const never = () => new Promise<string[]>(() => {});
    await expect(
      checkListenHost('nowhere.example', { allowRemote: false, lookup: never, timeoutMs: 20 }),
    ).rejects.toThrow(/cannot resolve --host nowhere\.example: no answer within 20 ms/);
  });
});
