import { RstarError } from "../../errors/index.js";
import { parseJson } from "../../util/index.js";
import { errorBodySchema } from "./response-schemas.js";
import { isRetryableStatus } from "./retry-policy.js";

const bodyPreviewLength = 500;

export function preview(text: string): string {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > bodyPreviewLength ? `${flat.slice(0, bodyPreviewLength)}…` : flat;
}

/** The server's own words for an error body, whichever of the known shapes it used. */
export function serverMessage(bodyText: string): string {
    const parsed = parseJson(bodyText);
    if (parsed.ok) {
        const body = errorBodySchema.safeParse(parsed.value);
        if (body.success) {
            const { error, message, detail } = body.data;
            if (typeof error === "string" && error !== "") return error;
            if (typeof error === "object" && error !== null && typeof error.message === "string" && error.message !== "") return error.message;
            if (typeof message === "string" && message !== "") return message;
            if (typeof detail === "string" && detail !== "") return detail;
            if (detail !== undefined) return preview(JSON.stringify(detail));
        }
    }
    return preview(bodyText) || "(empty body)";
}

/** llama.cpp's server before `n_cmpl` existed: "Only one completion choice is allowed"; newer ones bound `n_cmpl`. */
export function isNUnsupportedMessage(message: string): boolean {
    return /only one completion choice|n_cmpl/i.test(message);
}

/** vLLM: "The model `x` does not exist."; Ollama: "model 'x' not found". Not a 404 for a wrong path like "/models". */
function isModelNotFoundMessage(message: string, model: string): boolean {
    return (model !== "" && message.includes(model)) || /\bmodel\b[^/]*\b(not found|does not exist|unknown)/i.test(message);
}

/**
 * Maps a non-2xx answer to an RstarError naming the URL, the status and the server's message.
 * 404 about a model is BACKEND_MODEL_NOT_FOUND (vLLM: "The model `x` does not exist."; Ollama: "model 'x' not found").
 */
export function httpStatusError(url: string, status: number, bodyText: string, model: string): RstarError {
    const message = serverMessage(bodyText);
    const details = { url, status, responseBody: preview(bodyText), model };
    if (status === 404 && isModelNotFoundMessage(message, model)) {
        return new RstarError(
            "BACKEND_MODEL_NOT_FOUND",
            `model "${model}" is not served at ${url} (HTTP 404: ${message}); GET <baseURL>/models lists the models it serves`,
            { details },
        );
    }
    if (status === 404) {
        return new RstarError(
            "BACKEND_HTTP",
            `HTTP 404 from ${url}: ${message} (is the baseURL right? OpenAI-compatible servers usually want it to end in /v1)`,
            { details },
        );
    }
    if (status === 401 || status === 403) {
        return new RstarError("BACKEND_HTTP", `HTTP ${status} from ${url}: ${message} (check the API key, RSTAR_LLM_API_KEY)`, { details });
    }
    const nUnsupported = isNUnsupportedMessage(message);
    return new RstarError("BACKEND_HTTP", `HTTP ${status} from ${url}: ${message}`, {
        retryable: isRetryableStatus(status) && !nUnsupported,
        details: { ...details, nUnsupported },
    });
}

export function invalidResponseError(url: string, problem: string, bodyText: string): RstarError {
    return new RstarError("BACKEND_RESPONSE_INVALID", `malformed response from ${url}: ${problem}; body: ${preview(bodyText) || "(empty)"}`, {
        details: { url, responseBody: preview(bodyText) },
    });
}
