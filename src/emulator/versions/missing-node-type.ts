/**
 * Current ComfyUI reports a node without a class_type, or of a class it does not have, as `missing_node_type`
 * (PR #12194; PROTOCOL-current.md §2) where 0.3.64 said `invalid_prompt`. The check runs at the same place in
 * `validate_prompt`, so the 0.3.64 verdict is rewritten rather than validated twice.
 */
import type { ValidationError } from '../graph/validate.js';
import { isRecord } from '../graph/validation-types.js';

/** The `missing_node_type` error for the node a 0.3.64 `invalid_prompt` error names; other errors pass through. */
export function asMissingNodeType(error: ValidationError, prompt: Record<string, unknown>): ValidationError {
  if (error.type !== 'invalid_prompt') return error;
  const nodeId = /^Node ID '#(.*)'$/s.exec(error.details)?.[1];
  if (nodeId === undefined) return error;
  const node = prompt[nodeId];
  const meta = isRecord(node) && isRecord(node['_meta']) ? node['_meta'] : {};
  const title = typeof meta['title'] === 'string' ? meta['title'] : null;
  const classType = isRecord(node) && 'class_type' in node ? node['class_type'] : null;
  if (classType === null || classType === undefined) {
    return {
      type: 'missing_node_type',
      message: `Node '${title ?? `ID #${nodeId}`}' has no class_type. The workflow may be corrupted or a custom node is missing.`,
      details: error.details,
      extra_info: { node_id: nodeId, class_type: null, node_title: title },
    };
  }
  const name = title ?? String(classType);
  return {
    type: 'missing_node_type',
    message: `Node '${name}' not found. The custom node may not be installed.`,
    details: error.details,
    extra_info: { node_id: nodeId, class_type: classType, node_title: name },
  };
}
