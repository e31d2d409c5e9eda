/**
 * Aspect ratio to pixel size: keep the pixel count near the model's native base² (what it was trained on) and snap
 * both sides to the multiple the model needs (8 for SD1.5's latent, 64 for SDXL's buckets).
 */

/** A model's native resolution and the multiple its sizes snap to. */
export interface Resolution {
  readonly base: number;
  readonly multiple: number;
}

/** A width and height in pixels. */
export interface Size {
  readonly width: number;
  readonly height: number;
}

/** The size for `aspect` (`"16:9"`): pixel count ≈ base², sides multiples of `multiple`. SDXL 16:9 -> 1344×768. */
export function sizeForAspect(aspect: string, resolution: Resolution): Size {
  const [ratioWidth, ratioHeight] = aspect.split(':').map(Number) as [number, number];
  const ratio = ratioWidth / ratioHeight;
  const idealWidth = resolution.base * Math.sqrt(ratio);
  const idealHeight = resolution.base / Math.sqrt(ratio);
  let best: (Size & { score: number }) | undefined;
  // The nearest multiples either side of each ideal side; of the four sizes, the one closest in ratio and in area.
  for (const width of neighbours(idealWidth, resolution.multiple)) {
    for (const height of neighbours(idealHeight, resolution.multiple)) {
      const score =
        Math.abs(Math.log(width / height / ratio)) + Math.abs(Math.log((width * height) / resolution.base ** 2));
      if (!best || score < best.score - 1e-12) best = { width, height, score };
    }
  }
  return { width: best!.width, height: best!.height };
}

/** Rounds to the nearest multiple, never below one multiple. */
export function snapToMultiple(value: number, multiple: number): number {
  return Math.max(multiple, Math.round(value / multiple) * multiple);
}

/** The ratio of a size as people write it: 1344×768 -> "7:4", approximated when the exact one has large terms. */
export function aspectOf(width: number, height: number): string {
  const divisor = greatestCommonDivisor(width, height);
  if (width / divisor <= 99 && height / divisor <= 99) return `${width / divisor}:${height / divisor}`;
  let best = { text: '1:1', error: Number.POSITIVE_INFINITY };
  for (let denominator = 1; denominator <= 32; denominator += 1) {
    const numerator = Math.max(1, Math.min(99, Math.round((width / height) * denominator)));
    const error = Math.abs(Math.log(numerator / denominator / (width / height)));
    if (error < best.error - 1e-12) best = { text: `${numerator}:${denominator}`, error };
  }
  return best.text;
}

/**
 * A workflow's resolution when no manifest gives one, from its latent size: 512×512 -> base 512 snapping to 8,
 * 1024×1024 -> base 1024 snapping to 64 (SDXL and later models are trained on 64-pixel buckets).
 */
export function inferResolution(width: number, height: number): Resolution {
  const base = snapToMultiple(Math.sqrt(width * height), 64);
  return { base, multiple: base >= 1024 ? 64 : 8 };
}

function neighbours(ideal: number, multiple: number): number[] {
  const below = Math.max(multiple, Math.floor(ideal / multiple) * multiple);
  const above = Math.max(multiple, Math.ceil(ideal / multiple) * multiple);
  return below === above ? [below] : [below, above];
}

function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}
