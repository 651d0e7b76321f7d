/**
 * A fixed-bucket histogram with Prometheus semantics (upper bounds `le`, plus sum and count).
 * observe() allocates nothing: a short scan of the bounds and three additions. A leaf module:
 * the store (commit latency), the services (delivery latency) and /metrics share it.
 */

/** Upper bounds in seconds for latencies from half a millisecond to ten seconds. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** A histogram's state as plain data (structured-cloneable: it crosses from the store worker). */
export interface HistogramSnapshot {
  /** Upper bounds, ascending; the +Inf bucket is implied. */
  bounds: number[];
  /** Observations per bucket (not cumulative): bounds.length + 1 entries, the last for +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram {
  readonly #bounds: readonly number[];
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[] = LATENCY_BUCKETS_SECONDS) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw new RangeError("histogram bounds must ascend");
    }
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.#bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.#counts[i]++;
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  snapshot(): HistogramSnapshot {
    return { bounds: [...this.#bounds], counts: [...this.#counts], sum: this.#sum, count: this.#count };
  }
}
