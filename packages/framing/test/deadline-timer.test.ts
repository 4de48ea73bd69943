// One timer for the deadlines of many pending requests (server sessions): each item expires once, at
// its deadline, unless it settled first; items added in any order are all served.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineTimer } from '../src/deadline-timer';

interface Item {
  name: string;
  expiresAt: number;
}

describe('DeadlineTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const item = (name: string, inMs: number): Item => ({ name, expiresAt: Date.now() + inMs });

  it('expires each pending item at its deadline, in deadline order, once', () => {
    const expired: string[] = [];
    const timer = new DeadlineTimer<Item>((i) => expired.push(i.name));
    timer.add(item('a', 100));
    timer.add(item('b', 300));
    timer.add(item('c', 200));
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(['a', 'c']);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(['a', 'c', 'b']);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual(['a', 'c', 'b']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an item that settled never expires; the others still do', () => {
    const expired: string[] = [];
    const timer = new DeadlineTimer<Item>((i) => expired.push(i.name));
    const a = item('a', 100);
    timer.add(a);
    timer.add(item('b', 150));
    timer.delete(a);
    vi.advanceTimersByTime(200);
    expect(expired).toEqual(['b']);
  });

  it('a later, earlier deadline still fires on time', () => {
    const expired: string[] = [];
    const timer = new DeadlineTimer<Item>((i) => expired.push(i.name));
    timer.add(item('late', 1000));
    timer.add(item('early', 10));
    vi.advanceTimersByTime(10);
    expect(expired).toEqual(['early']);
    vi.advanceTimersByTime(990);
    expect(expired).toEqual(['early', 'late']);
  });

  it('items added by an expiry are served too', () => {
    const expired: string[] = [];
    const timer = new DeadlineTimer<Item>((i) => {
      expired.push(i.name);
      if (i.name === 'first') timer.add(item('second', 50));
    });
    timer.add(item('first', 20));
    vi.advanceTimersByTime(20);
    vi.advanceTimersByTime(50);
    expect(expired).toEqual(['first', 'second']);
  });

  it('a sequence of requests, each settled before the next, arms one timer, not one per request', () => {
    const timer = new DeadlineTimer<Item>(() => {});
    const spy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 100; i++) {
      const request = item(`r${i}`, 60_000);
      timer.add(request);
      vi.advanceTimersByTime(1);
      timer.delete(request);
    }
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    timer.clear();
  });

  it('an infinite deadline is never watched; clear() stops everything', () => {
    const expired: string[] = [];
    const timer = new DeadlineTimer<Item>((i) => expired.push(i.name));
    timer.add({ name: 'never', expiresAt: Number.POSITIVE_INFINITY });
    expect(vi.getTimerCount()).toBe(0);
    timer.add(item('x', 10));
    timer.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([]);
  });
});
