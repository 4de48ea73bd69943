// float32 values at float32 precision. A float32 read from a device widens to a float64 with digits that
// were never measured (3.4767980575561523 for 3.476798); the shortest decimal that rounds back to the
// same float32 is what the device holds, and what `watch` and `analog read` alike should print.

/** The shortest decimal (as a number) that Math.fround maps to the same float32 as `value`. */
export function float32Shortest(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0) return f;
  // 9 significant digits always identify a float32; most values need fewer.
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return Number(f.toPrecision(9));
}

/** `float32Shortest` as text: `3.476798`, `0.1`, `-2.5e-7`, `NaN`, `Infinity`. */
export function formatFloat32(value: number): string {
  return String(float32Shortest(value));
}
