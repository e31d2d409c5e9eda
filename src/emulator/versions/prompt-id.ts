/**
 * Current ComfyUI's check of a client-supplied prompt id (PROTOCOL-current.md §2): absent or null lets the server
 * mint one; anything else must be a string with `str(uuid.UUID(v)) == v`, i.e. a canonical lowercase UUID.
 */

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True when Python's `str(uuid.UUID(value)) == value` holds. */
export function isCanonicalUuid(value: unknown): value is string {
  return typeof value === 'string' && CANONICAL_UUID.test(value);
}

/** The 400 body of `POST /prompt` for a prompt id that is not a canonical UUID. */
export const INVALID_PROMPT_ID_BODY = {
  error: {
    type: 'invalid_prompt_id',
    message: 'prompt_id must be a valid UUID',
    details:
      'prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one',
    extra_info: {},
  },
  node_errors: {},
};
