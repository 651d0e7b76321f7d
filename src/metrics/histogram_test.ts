import assert from "node:assert/strict";
import { Histogram } from "./histogram.ts";

Deno.test("Histogram counts each value in the first bucket whose bound it does not exceed", () => {
  const h = new Histogram([0.01, 0.1, 1]);
  for (const v of [0.005, 0.01, 0.05, 0.1, 0.5, 2, 30]) h.observe(v);
  const s = h.snapshot();
  assert.deepEqual(s.bounds, [0.01, 0.1, 1]);
  assert.deepEqual(s.counts, [2, 2, 1, 2]);
  assert.equal(s.count, 7);
  assert.ok(Math.abs(s.sum - 32.665) < 1e-9);
});

Deno.test("Histogram refuses bounds that do not ascend", () => {
  assert.throws(() => new Histogram([1, 1]), RangeError);
  assert.throws(() => new Histogram([2, 1]), RangeError);
});

Deno.test("Histogram snapshots are copies", () => {
  const h = new Histogram([1]);
  const before = h.snapshot();
  h.observe(0.5);
  assert.deepEqual(before.counts, [0, 0]);
  assert.deepEqual(h.snapshot().counts, [1, 0]);
});
