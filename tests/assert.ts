/** @std/assert-style helpers on top of node:assert (JSR is unreachable here). */
import nodeAssert from "node:assert/strict";

export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance = 1e-7,
  msg?: string,
) {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new nodeAssert.AssertionError({
      message: msg ?? `expected ${actual} to be within ${tolerance} of ${expected}`,
      actual,
      expected,
    });
  }
}

export function assertMatch(actual: string, re: RegExp, msg?: string) {
  nodeAssert.match(actual, re, msg);
}

export function assertStringIncludes(actual: string, expected: string, msg?: string) {
  if (!actual.includes(expected)) {
    throw new nodeAssert.AssertionError({
      message: msg ?? `expected string to include ${JSON.stringify(expected)}:\n${actual}`,
      actual,
      expected,
    });
  }
}

export function assertThrows(fn: () => unknown, msgIncludes?: string): Error {
  try {
    fn();
  } catch (e) {
    const err = e as Error;
    if (msgIncludes !== undefined) assertStringIncludes(err.message, msgIncludes);
    return err;
  }
  throw new nodeAssert.AssertionError({ message: "expected function to throw" });
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  msgIncludes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    const err = e as Error;
    if (msgIncludes !== undefined) assertStringIncludes(err.message, msgIncludes);
    return err;
  }
  throw new nodeAssert.AssertionError({ message: "expected promise to reject" });
}
