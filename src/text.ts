/** Text as members see it, cut to the lengths Discord allows. */

/** `text`, or its first `max - 1` characters and an ellipsis when it is longer than `max`. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
