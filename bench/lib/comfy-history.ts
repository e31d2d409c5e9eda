/**
 * When a ComfyUI server started and finished each prompt, read from its `/history` as any client would: the status
 * messages there (`execution_start`, `execution_success`) carry the server's timestamps in epoch milliseconds.
 */
import { fetch } from 'undici';
import { z } from 'zod';

const messageSchema = z.tuple([z.string(), z.looseObject({ timestamp: z.number().optional() })]);
const historySchema = z.record(
  z.string(),
  z.looseObject({ status: z.looseObject({ messages: z.array(messageSchema) }).optional() }),
);

/** A prompt's run on the server, by the server's clock. */
export interface PromptRun {
  readonly promptId: string;
  readonly startedAt: number;
  /** When the server sent `execution_success`. */
  readonly succeededAt: number;
}

/** Every successful prompt in a server's history. */
export async function promptRuns(baseUrl: string): Promise<PromptRun[]> {
  const response = await fetch(`${baseUrl}/history`);
  const parsed = historySchema.safeParse(await response.json());
  if (!parsed.success) throw new Error(`unexpected /history from ${baseUrl}: ${parsed.error.message}`);
  const runs: PromptRun[] = [];
  for (const [promptId, entry] of Object.entries(parsed.data)) {
    const at = (type: string) => entry.status?.messages.find(([name]) => name === type)?.[1].timestamp;
    const startedAt = at('execution_start');
    const succeededAt = at('execution_success');
    if (startedAt !== undefined && succeededAt !== undefined) runs.push({ promptId, startedAt, succeededAt });
  }
  return runs;
}

/** The id of the prompt a server received whose graph carries `text` as an input value (the job's own prompt). */
export function promptIdOf(
  received: ReadonlyArray<{ promptId: string; prompt: Record<string, unknown> }>,
  text: string,
): string | undefined {
  const needle = JSON.stringify(text);
  return received.find((entry) => JSON.stringify(entry.prompt).includes(needle))?.promptId;
}
