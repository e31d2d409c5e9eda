/**
 * Makes text written by a ComfyUI server (an exception message, a validation error) fit for a member to read. Such
 * text quotes whatever the node had at hand: where a model was fetched from, the server's own folders, and — in a
 * "Value not in list" error — every file the server has for that input. Members see what went wrong, never where the
 * server keeps things or what else it holds; the log keeps the full text.
 */

const MAX_MEMBER_TEXT = 200;

/** Pseudo and real top-level domains that end host names in error messages; `torch.nn` and `x.safetensors` do not. */
const HOST_SUFFIXES = [
  ...['com', 'net', 'org', 'io', 'ai', 'co', 'dev', 'app', 'cloud', 'info', 'xyz', 'me', 'tech', 'site', 'online'],
  ...['us', 'uk', 'de', 'fr', 'nl', 'eu', 'jp', 'cn', 'ru', 'ca', 'au', 'in', 'br', 'kr', 'ch', 'se', 'pl', 'it'],
  ...['local', 'lan', 'internal', 'intranet', 'corp', 'home', 'localdomain', 'private', 'test', 'example', 'invalid'],
  ...['arpa', 'cluster', 'svc', 'consul', 'localhost'],
].join('|');

/** Each rule replaces one kind of thing a member must not see; they run in order. */
const RULES: readonly (readonly [RegExp, string | ((match: string, ...groups: string[]) => string)])[] = [
  // URLs of any scheme: where a model was downloaded from, a proxy, the server itself.
  [/\b[a-z][\w+.-]*:\/\/\S+/gi, '[address]'],
  // "…: 'x' not in ['a.safetensors', 'b.safetensors', …]": the server's whole list of files for that input. Newer
  // servers write "(list of length 42)"; a long list may also have been cut short before its closing bracket.
  [/\bnot in (?:\[[^\]]*\]?|\(list of length \d+\))/g, 'is not one of the choices on this server'],
  // Any other Python list of several quoted names is a listing of the server's files too.
  [/\[\s*(['"])[^'"]*\1(?:\s*,\s*(['"])[^'"]*\2){1,}\s*,?\s*(?:\]|$)/g, '[…]'],
  // key: value pairs whose value is a location (ComfyUI's own "full_output_folder: /opt/ComfyUI", "fullpath: …").
  [
    /\b(full_?path|full_output_folder|output_dir|input_dir|temp_dir|commonpath|file_?path|folder_path)\s*[:=]\s*\S+/gi,
    '$1: [path]',
  ],
  // Windows paths (C:\…, \\server\share\…) and POSIX absolute or home paths: the file's own name is kept.
  [/(?:\b[a-z]:[\\/]|\\\\)(?:[^\\/\s'"`,;)\]]+[\\/])*([^\\/\s'"`,;)\]]*)/gi, (_match, base: string) => baseName(base)],
  [
    /(?<![\w.:/-])~?\/(?:[^/\s'"`,;)\]]+\/)*([^/\s'"`,;)\]]*)/g,
    (match, base: string) => (match === '/' ? match : baseName(base)),
  ],
  // IP addresses, v4 and v6, with or without a port.
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '[address]'],
  [/\[[0-9a-f:]*:[0-9a-f:]*\](?::\d+)?/gi, '[address]'],
  [/(?<![\w:])(?:[0-9a-f]{1,4})?(?::[0-9a-f]{0,4})*::(?:[0-9a-f]{1,4})?(?::[0-9a-f]{1,4})*(?![\w:])/gi, '[address]'],
  // host:port without a scheme ("gpu1.lan:8188", "localhost:8188"); the name must hold a letter, so 12:30 stays.
  [/\b(?=[\w.-]*[a-z])[a-z0-9](?:[\w-]*[a-z0-9])?(?:\.[a-z0-9](?:[\w-]*[a-z0-9])?)*:\d{2,5}\b/gi, '[address]'],
  // Bare host names ("comfy.internal", "huggingface.co", "comfy-0.comfy.svc.cluster.local").
  [new RegExp(`\\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+(?:${HOST_SUFFIXES})\\b(?![.\\w-])`, 'gi'), '[address]'],
  [/\blocalhost\b/gi, '[address]'],
];

/**
 * The first non-empty line of `text`, whitespace collapsed, with URLs, host names, IP addresses, file paths (only the
 * file's own name is kept) and listings of the server's files removed, cut to a readable length.
 */
export function memberSafeText(text: string): string {
  const firstLine =
    text
      .split('\n')
      .map((line) => line.trim())
      .find(Boolean) ?? '';
  let scrubbed = firstLine.replace(/\s+/g, ' ');
  for (const [pattern, replacement] of RULES) {
    scrubbed =
      typeof replacement === 'string' ? scrubbed.replace(pattern, replacement) : scrubbed.replace(pattern, replacement);
  }
  return scrubbed.length > MAX_MEMBER_TEXT ? `${scrubbed.slice(0, MAX_MEMBER_TEXT - 1)}…` : scrubbed;
}

/** A path's last segment when it names a file (`x.safetensors`), else a placeholder: folders say nothing useful. */
function baseName(segment: string): string {
  return /\.[a-z0-9]{1,12}$/i.test(segment) ? segment : '[path]';
}
