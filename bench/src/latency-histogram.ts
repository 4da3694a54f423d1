/**
 * Log-bucketed latency histogram (the HDR idea, in a fixed 3,328-slot array): values are whole
 * microseconds; below 256 µs every value has its own bucket, above it each power of two is cut into
 * 128 buckets, so a reported percentile is within 0.4% of the true value, from 1 µs to 35 minutes,
 * in bounded memory however many samples are recorded.
 */

const linearBuckets = 256;
const subBuckets = 128;
const subBucketBits = 7;
const octaves = 24;
const bucketCount = linearBuckets + octaves * subBuckets;
/** The largest recordable value in µs; larger samples are clamped to it (and counted in `max` as given). */
const maxTrackable = 2 ** (8 + octaves) - 1;

/** A histogram in transferable form (IPC, JSON): only the buckets that hold samples. */
export interface HistogramSnapshot {
  /** `[bucket index, count]` pairs, ascending. */
  buckets: [number, number][];
  count: number;
  /** Sum of the samples in µs (for the mean). */
  sumUs: number;
  minUs: number;
  maxUs: number;
}

function bucketOf(us: number): number {
  if (us < linearBuckets) return us;
  const exponent = 31 - Math.clz32(us);
  const shift = exponent - subBucketBits;
  return linearBuckets + (exponent - 8) * subBuckets + ((us >>> shift) - subBuckets);
}

/** Lowest value and width (µs) of a bucket. */
function boundsOf(index: number): { low: number; width: number } {
  if (index < linearBuckets) return { low: index, width: 1 };
  const octave = Math.floor((index - linearBuckets) / subBuckets);
  const sub = (index - linearBuckets) % subBuckets;
  const width = 2 ** (octave + 1);
  return { low: (subBuckets + sub) * width, width };
}

/** Records latencies (in milliseconds, as measured) and answers percentiles in milliseconds. */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(bucketCount);
  private total = 0;
  private sumUs = 0;
  private minUs = Number.POSITIVE_INFINITY;
  private maxUs = 0;

  /** Rebuilds a histogram from its snapshot. */
  static from(snapshot: HistogramSnapshot): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const [index, count] of snapshot.buckets) h.counts[index] = count;
    h.total = snapshot.count;
    h.sumUs = snapshot.sumUs;
    h.minUs = snapshot.count > 0 ? snapshot.minUs : Number.POSITIVE_INFINITY;
    h.maxUs = snapshot.maxUs;
    return h;
  }

  /** Records one sample of `ms` milliseconds (negative values count as 0). */
  record(ms: number): void {
    const us = Math.min(maxTrackable, Math.max(0, Math.round(ms * 1000)));
    this.counts[bucketOf(us)]! += 1;
    this.total += 1;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Adds every sample of `other` (rounds of one target merge into one histogram). */
  add(other: LatencyHistogram): void {
    for (let i = 0; i < bucketCount; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sumUs += other.sumUs;
    this.minUs = Math.min(this.minUs, other.minUs);
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  /** Number of samples. */
  get count(): number {
    return this.total;
  }

  /** Mean in ms (0 when empty). */
  get meanMs(): number {
    return this.total === 0 ? 0 : this.sumUs / this.total / 1000;
  }

  /** Largest sample in ms (0 when empty). */
  get maxMs(): number {
    return this.maxUs / 1000;
  }

  /**
   * The value at percentile `p` (0–100) in ms: the smallest bucket holding the `ceil(p% × count)`-th
   * sample, reported at its middle and clamped to the recorded min and max; the first and last
   * ranks are the exact min and max. NaN when empty.
   */
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.total));
    if (rank === this.total) return this.maxUs / 1000;
    if (rank === 1) return this.minUs / 1000;
    let seen = 0;
    for (let i = 0; i < bucketCount; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const { low, width } = boundsOf(i);
        const middle = low + (width - 1) / 2;
        return Math.min(this.maxUs, Math.max(this.minUs, middle)) / 1000;
      }
    }
    return this.maxUs / 1000;
  }

  /** The transferable form. */
  snapshot(): HistogramSnapshot {
    const buckets: [number, number][] = [];
    for (let i = 0; i < bucketCount; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return {
      buckets,
      count: this.total,
      sumUs: this.sumUs,
      minUs: this.total > 0 ? this.minUs : 0,
      maxUs: this.maxUs,
    };
  }
}
