/**
 * The machine-learning half of anomaly detection: k-means over short feature vectors, as netdata
 * does per metric. Training learns where normal vectors live (k centroids); a new vector's distance
 * to its nearest centroid, compared with the distances seen in training, says how unusual it is.
 * Pure and seeded: the same rows and seed always give the same model.
 */
import { quantile } from "./series.ts";

export interface KMeansModel {
  k: number;
  /** Vector length. */
  dim: number;
  /** k·dim values, centroid after centroid. */
  centroids: Float64Array;
  /**
   * The `thresholdQuantile` quantile of the training vectors' distances to their nearest centroid:
   * a new vector at this distance is as unusual as the most unusual few training vectors.
   */
  threshold: number;
}

export interface KMeansOptions {
  /** Number of clusters (netdata uses 2; a few more describe multi-modal metrics better). */
  k: number;
  /** Lloyd iterations at most; training stops earlier once no assignment changes. */
  iterations: number;
  seed: number;
  /** Quantile of the training distances that becomes the threshold, e.g. 0.99. */
  thresholdQuantile: number;
  /**
   * Clusters holding less than this share of the rows are dropped after training: k-means++
   * seeds a centroid on a far outlier on purpose, and an anomaly in the training data would then
   * teach the model that the anomaly is normal. Their rows count as far from the model instead.
   */
  minClusterShare: number;
}

/**
 * Trains k-means on `rows` (n rows of `dim` values, row after row). k-means++ seeding (each next
 * centroid drawn with probability proportional to the squared distance from the chosen ones)
 * followed by Lloyd's iterations. Returns null when there are fewer rows than 2·k.
 */
export function trainKMeans(
  rows: Float64Array,
  dim: number,
  options: KMeansOptions,
): KMeansModel | null {
  const n = Math.floor(rows.length / dim);
  const k = Math.max(1, Math.floor(options.k));
  if (n < 2 * k) return null;
  const rnd = seededUniform(options.seed);
  const centroids = seedPlusPlus(rows, n, dim, k, rnd);
  const assign = new Int32Array(n).fill(-1);
  const hit: Hit = { index: 0 };
  const sums = new Float64Array(k * dim);
  const counts = new Uint32Array(k);
  for (let iter = 0; iter < options.iterations; iter++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      nearest(centroids, k, dim, rows, i * dim, hit);
      const c = hit.index;
      if (c !== assign[i]) {
        assign[i] = c;
        changed++;
      }
    }
    if (changed === 0 && iter > 0) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assign[i];
      counts[c]++;
      for (let j = 0; j < dim; j++) sums[c * dim + j] += rows[i * dim + j];
    }
    // An emptied cluster keeps its old centroid: it may win rows back on the next pass.
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = sums[c * dim + j] / counts[c];
    }
  }
  for (let i = 0; i < n; i++) {
    nearest(centroids, k, dim, rows, i * dim, hit);
    assign[i] = hit.index;
  }
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[assign[i]]++;

  const keep: number[] = [];
  for (let c = 0; c < k; c++) if (counts[c] >= options.minClusterShare * n) keep.push(c);
  if (keep.length === 0) return null;
  const kept = new Float64Array(keep.length * dim);
  keep.forEach((c, m) => kept.set(centroids.subarray(c * dim, (c + 1) * dim), m * dim));

  const distances = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    distances[i] = Math.sqrt(nearest(kept, keep.length, dim, rows, i * dim, hit));
  }
  const threshold = quantile(distances, options.thresholdQuantile);
  return { k: keep.length, dim, centroids: kept, threshold };
}

/** Euclidean distance from the vector at `vector[offset..offset+dim)` to its nearest centroid. */
export function distanceToModel(model: KMeansModel, vector: ArrayLike<number>, offset = 0): number {
  return Math.sqrt(nearest(model.centroids, model.k, model.dim, vector, offset, { index: 0 }));
}

/** Where `nearest` leaves the winning centroid (caller-owned: no allocation per call). */
interface Hit {
  index: number;
}

/** Squared distance to the nearest centroid; its index goes into `hit`. */
function nearest(
  centroids: Float64Array,
  k: number,
  dim: number,
  vector: ArrayLike<number>,
  offset: number,
  hit: Hit,
): number {
  let best = 0;
  let bestSq = Infinity;
  for (let c = 0; c < k; c++) {
    let sq = 0;
    const base = c * dim;
    for (let j = 0; j < dim && sq < bestSq; j++) {
      const diff = vector[offset + j] - centroids[base + j];
      sq += diff * diff;
    }
    if (sq < bestSq) {
      bestSq = sq;
      best = c;
    }
  }
  hit.index = best;
  return bestSq;
}

function seedPlusPlus(
  rows: Float64Array,
  n: number,
  dim: number,
  k: number,
  rnd: () => number,
): Float64Array {
  const centroids = new Float64Array(k * dim);
  const first = Math.floor(rnd() * n);
  centroids.set(rows.subarray(first * dim, (first + 1) * dim), 0);
  const d2 = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < k; c++) {
    let total = 0;
    const prev = (c - 1) * dim;
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let j = 0; j < dim; j++) {
        const diff = rows[i * dim + j] - centroids[prev + j];
        sq += diff * diff;
      }
      if (sq < d2[i]) d2[i] = sq;
      total += d2[i];
    }
    let pick = n - 1;
    if (total > 0) {
      let target = rnd() * total;
      for (let i = 0; i < n; i++) {
        target -= d2[i];
        if (target < 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = Math.floor(rnd() * n); // every row is on a centroid already: any row will do
    }
    centroids.set(rows.subarray(pick * dim, (pick + 1) * dim), c * dim);
  }
  return centroids;
}

/** Mulberry32: a tiny seeded PRNG with uniform output in [0, 1); enough to seed k-means++. */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let z = Math.imul(state ^ (state >>> 15), 1 | state);
    z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z;
    return ((z ^ (z >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
