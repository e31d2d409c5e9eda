/**
 * The size part of binding: an aspect ratio, or an explicit width and height, or the workflow's defaults, turned
 * into a width and height the model can use (snapped to its multiple, within the workflow's limits).
 */
import { aspectOf, type Resolution, sizeForAspect, snapToMultiple } from './aspect.js';
import { sentence, type Sentence } from '../i18n/catalog.js';
import type { GenerationSettings } from './settings.js';
import type { SettingSpec, Workflow } from './workflow.js';

type SizeError = { ok: false; setting: 'aspect' | 'width' | 'height'; sentence: Sentence };

/** The size to use, or why the member's size cannot be used. */
export type SizeResult = { ok: true; width: number; height: number; aspect: string } | SizeError;

/** Whether a workflow takes a width and a height together, so aspect ratios and snapping apply. */
export function takesSize(workflow: Workflow): boolean {
  return Boolean(workflow.settings.width && workflow.settings.height && workflow.resolution);
}

/** Works out the width and height for a workflow that takes both (and so has a resolution). */
export function bindSize(workflow: Workflow, settings: GenerationSettings): SizeResult {
  const { width: widthSpec, height: heightSpec, aspect: aspectSpec } = workflow.settings;
  const resolution = workflow.resolution;
  if (!widthSpec || !heightSpec || !resolution) throw new Error(`${workflow.name} takes no size`);
  // Without an aspect setting (a manifest turned it off) an aspect is refused as not accepted, before we get here.
  const aspect = aspectSpec ? settings.aspect : undefined;
  if (aspect !== undefined && (settings.width !== undefined || settings.height !== undefined)) {
    return { ok: false, setting: 'aspect', sentence: sentence('bind.aspectOrSize') };
  }
  if (aspect !== undefined) {
    if (aspectSpec?.choices && !aspectSpec.choices.includes(aspect)) {
      const params = { setting: 'aspect', choices: aspectSpec.choices.join(', '), workflow: workflow.name };
      return { ok: false, setting: 'aspect', sentence: sentence('bind.oneOf', params) };
    }
    return fitAspect(workflow.name, aspect, resolution, widthSpec, heightSpec);
  }
  const width = snapToMultiple(settings.width ?? Number(widthSpec.default), resolution.multiple);
  const height = snapToMultiple(settings.height ?? Number(heightSpec.default), resolution.multiple);
  const problem = outOfRange(workflow.name, widthSpec, width) ?? outOfRange(workflow.name, heightSpec, height);
  return problem ?? { ok: true, width, height, aspect: aspectOf(width, height) };
}

// An aspect the limits cannot hold at full size is shrunk, keeping its ratio, rather than refused.
function fitAspect(
  name: string,
  aspect: string,
  resolution: Resolution,
  widthSpec: SettingSpec,
  heightSpec: SettingSpec,
): SizeResult {
  let { width, height } = sizeForAspect(aspect, resolution);
  const shrink = Math.min(1, (widthSpec.max ?? width) / width, (heightSpec.max ?? height) / height);
  if (shrink < 1) {
    width = Math.max(resolution.multiple, Math.floor((width * shrink) / resolution.multiple) * resolution.multiple);
    height = Math.max(resolution.multiple, Math.floor((height * shrink) / resolution.multiple) * resolution.multiple);
  }
  const tooSmall = outOfRange(name, widthSpec, width) ?? outOfRange(name, heightSpec, height);
  if (tooSmall) {
    const said = sentence('bind.aspectTooNarrow', { aspect, workflow: name, problem: tooSmall.sentence });
    return { ok: false, setting: 'aspect', sentence: said };
  }
  return { ok: true, width, height, aspect };
}

function outOfRange(name: string, spec: SettingSpec, value: number): SizeError | undefined {
  const setting = spec.name === 'height' ? 'height' : 'width';
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
    const params = { setting, min: spec.min ?? 0, max: spec.max ?? '∞', workflow: name };
    return { ok: false, setting, sentence: sentence('bind.between', params) };
  }
  return undefined;
}
