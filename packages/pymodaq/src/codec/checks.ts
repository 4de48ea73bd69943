// Type checks applied after a generic decode: a field that is well-formed but of the wrong Python type is
// an UnexpectedValueError naming the field and both types.

import { UnexpectedValueError } from './errors';
import { NdArray } from './nd-array';
import type { PullContext } from './pull';
import {
  type Axis,
  DATA_DIMS,
  DATA_DISTRIBUTIONS,
  DATA_SOURCES,
  type DataDim,
  type DataDistribution,
  type DataSource,
  type DataWithAxes,
  isAxis,
  isDataWithAxes,
  isPyScalar,
  type PyValue,
  pyTypeName,
} from './values';

/** A check applied to a decoded field at offset `at`: the field's value, or a typed error naming it. */
export type Check<T> = (ctx: PullContext, value: PyValue, at: number) => T;

/** No check: any value. */
export const anyValue: Check<PyValue> = (_ctx, value) => value;

export function unexpected(
  ctx: PullContext,
  expected: string,
  value: PyValue,
  at: number,
): UnexpectedValueError {
  return new UnexpectedValueError(expected, pyTypeName(value), at, ctx.field || undefined);
}

export function expectStr(ctx: PullContext, value: PyValue, at: number): string {
  if (typeof value !== 'string') throw unexpected(ctx, 'str', value, at);
  return value;
}

/** A float or int scalar as a JS number (timestamps). */
export function expectNumber(ctx: PullContext, value: PyValue, at: number): number {
  if (isPyScalar(value) && typeof value.value !== 'object' && typeof value.value !== 'boolean') {
    return Number(value.value);
  }
  throw unexpected(ctx, 'a float or int', value, at);
}

/** An int scalar as a JS number (indexes). */
export function expectInt(ctx: PullContext, value: PyValue, at: number): number {
  if (isPyScalar(value) && (typeof value.value === 'number' || typeof value.value === 'bigint')) {
    const n = Number(value.value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw unexpected(ctx, 'an int', value, at);
}

export function expectArray(ctx: PullContext, value: PyValue, at: number): NdArray {
  if (!(value instanceof NdArray)) throw unexpected(ctx, 'an array', value, at);
  return value;
}

export function expectAxis(ctx: PullContext, value: PyValue, at: number): Axis {
  if (!isAxis(value)) throw unexpected(ctx, 'an Axis', value, at);
  return value;
}

export function expectDwa(ctx: PullContext, value: PyValue, at: number): DataWithAxes {
  if (!isDataWithAxes(value)) throw unexpected(ctx, 'a DataWithAxes', value, at);
  return value;
}

export function expectList(ctx: PullContext, value: PyValue, at: number): readonly PyValue[] {
  if (!Array.isArray(value)) throw unexpected(ctx, 'a list', value, at);
  return value as readonly PyValue[];
}

function oneOf<T extends string>(
  ctx: PullContext,
  allowed: readonly T[],
  value: string,
  at: number,
  what: string,
): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw ctx.error(`${what} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`, at, {
      code: 'PymodaqBadEnum',
    });
  }
  return value as T;
}

export const expectSource = (ctx: PullContext, v: string, at: number): DataSource =>
  oneOf(ctx, DATA_SOURCES, v, at, 'source');
export const expectDim = (ctx: PullContext, v: string, at: number): DataDim =>
  oneOf(ctx, DATA_DIMS, v, at, 'dim');
export const expectDistribution = (ctx: PullContext, v: string, at: number): DataDistribution =>
  oneOf(ctx, DATA_DISTRIBUTIONS, v, at, 'distribution');
