/**
 * Prompt ids the client supplies. Current ComfyUI accepts only canonical lowercase UUIDs (`str(uuid.UUID(v)) == v`,
 * the `crypto.randomUUID()` form) and refuses anything else with 400 `invalid_prompt_id`; 0.3.x takes any string.
 * Ids of other shapes persisted by older versions can still be looked up (history, queue, jobs API), never posted.
 */
import { randomUUID } from 'node:crypto';

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A fresh prompt id every ComfyUI version accepts. */
export function newPromptId(): string {
  return randomUUID();
}

/** True when every ComfyUI version accepts this id in `POST /prompt` (a canonical lowercase UUID). */
export function isPostablePromptId(id: string): boolean {
  return CANONICAL_UUID.test(id);
}
