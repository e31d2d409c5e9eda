/**
 * `GET /features` and `GET /system_stats` as each version serves them (PROTOCOL.md; PROTOCOL-current.md §4, §6).
 */
import type { ComfyVersion } from './version.js';

/** The server's feature flags; current adds model-type tags, the manager extension, node replacements and assets. */
export function featureFlags(version: ComfyVersion): Record<string, unknown> {
  const base = { supports_preview_metadata: true };
  if (version === '0.3.64') return { ...base, max_upload_size: 104857600 };
  return {
    ...base,
    supports_model_type_tags: true,
    max_upload_size: 104857600,
    extension: { manager: { supports_v4: true } },
    node_replacements: true,
    // The emulator in current mode runs as with --enable-assets: output items carry asset ids.
    assets: true,
  };
}

/** What current ComfyUI adds to `system`: the frontend package versions and the deploy environment. */
export function currentSystemAdditions(): Record<string, unknown> {
  return {
    comfy_package_versions: [{ name: 'comfyui-frontend-package', installed: '1.28.8', required: '1.28.8' }],
    deploy_environment: 'local-git',
  };
}
