/**
 * Lists of LoRAs as members change them. `--lora name:weight` adds a LoRA, or changes the weight of one already in
 * the list (the same file, however it was typed); a weight of 0 takes it out (a LoRA at 0 changes nothing, so that is
 * what 0 means). A refine adds to the LoRAs of the picture it refines; `/imagine` starts from none.
 */
import { graphLoras } from './lora-binding.js';
import { resolveModelName } from './model-names.js';
import type { LoraChoice } from './settings.js';
import type { Workflow } from './workflow.js';

/**
 * `base` with `added` applied in order: a LoRA already there gets the new weight (or is taken out at 0), a new one
 * goes at the end. A 0 that matches nothing yet stays in the list, so that `settleLoras` can match it once names are
 * resolved to the files the servers list.
 */
export function mergeLoras(base: readonly LoraChoice[], added: readonly LoraChoice[]): LoraChoice[] {
  const merged = [...base];
  for (const lora of added) {
    const index = indexOfLora(merged, lora.name);
    if (index < 0) merged.push(lora);
    else if (lora.weight === 0) merged.splice(index, 1);
    else merged[index] = { ...merged[index]!, ...(lora.weight === undefined ? {} : { weight: lora.weight }) };
  }
  return merged;
}

/** A list whose names are resolved: one entry per file, the last weight given winning, those at 0 taken out. */
export function settleLoras(loras: readonly LoraChoice[]): LoraChoice[] {
  return mergeLoras([], loras).filter((lora) => lora.weight !== 0);
}

/** The LoRAs a workflow runs when a member names none (those its graph chains), with the weights written there. */
export function ownLorasOf(workflow: Workflow | undefined): LoraChoice[] {
  return workflow ? graphLoras(workflow.graph, workflow.loras) : [];
}

function indexOfLora(loras: readonly LoraChoice[], typed: string): number {
  const match = resolveModelName(
    typed,
    loras.map((lora) => lora.name),
  );
  return match.ok ? loras.findIndex((lora) => lora.name === match.name) : -1;
}
