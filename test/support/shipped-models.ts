import { fileURLToPath } from "node:url";

/** The tiny models shipped in `models/` (see models/manifest.json): always present, so tests using them never skip. */
export const SHIPPED_POLICY = fileURLToPath(new URL("../../models/policy/model.gguf", import.meta.url));
export const SHIPPED_PPM_DIR = fileURLToPath(new URL("../../models/ppm", import.meta.url));
