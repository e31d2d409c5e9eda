/**
 * The ranges one server declares for the inputs a workflow's settings are written to. A value comfycord chooses (a
 * fresh seed above all: some nodes cap seeds at 2^32 - 1 or 2^53 where KSampler takes 2^64 - 1) or passes on from a
 * member must lie within every one of them, or the server refuses the prompt.
 */
import { inputSpecOf, readInputSpec, type ObjectInfo } from '../comfy/object-info.js';
import type { Workflow, WorkflowSettingName } from './workflow.js';

/** The lowest and highest value a server takes for one setting (either may be unbounded). */
export interface ValueRange {
  readonly min?: number;
  readonly max?: number;
}

/** Setting name → the range its inputs declare on one server; settings whose inputs declare none are absent. */
export type SettingRanges = Partial<Record<WorkflowSettingName, ValueRange>>;

/** The intersection of the declared number ranges of each setting's target inputs on this server. */
export function settingRanges(workflow: Workflow, objectInfo: ObjectInfo): SettingRanges {
  const ranges: SettingRanges = {};
  for (const spec of Object.values(workflow.settings)) {
    let range: ValueRange | undefined;
    for (const target of spec.targets) {
      const node = objectInfo.nodes.get(workflow.graph[target.nodeId]?.class_type ?? '');
      const declared = node ? readInputSpec(inputSpecOf(node, target.input)?.raw) : undefined;
      if (declared?.kind !== 'number') continue;
      range = narrow(range ?? {}, declared);
    }
    if (range !== undefined) ranges[spec.name] = range;
  }
  return ranges;
}

/** The part of `range` that also lies within `other`. */
export function narrow(range: ValueRange, other: ValueRange): ValueRange {
  const min =
    range.min === undefined ? other.min : other.min === undefined ? range.min : Math.max(range.min, other.min);
  const max =
    range.max === undefined ? other.max : other.max === undefined ? range.max : Math.min(range.max, other.max);
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}

/** True when the value lies within the range. */
export function isWithin(value: number, range: ValueRange | undefined): boolean {
  return (range?.min === undefined || value >= range.min) && (range?.max === undefined || value <= range.max);
}
