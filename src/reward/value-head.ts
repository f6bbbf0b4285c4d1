import { InputError, RstarError } from "../errors/index.js";
import { readSafetensorsFile, type SafetensorsFile, type Tensor } from "./safetensors.js";

/** The official inference code maps the head's raw output h to tanh(h / 5). */
export const DEFAULT_VALUE_SCALE = 5;

export interface ValueHeadOptions {
    /** Divides the raw head output before tanh. Defaults to 5, as the official PPM inference code does. */
    scale?: number;
}

export interface LoadValueHeadOptions extends ValueHeadOptions {
    /**
     * Name of the weight tensor. Defaults to the one tensor named `weight` or ending in `.weight`
     * (e.g. `v_head.summary.weight` from TRL's `AutoModelForCausalLMWithValueHead`, `summary.weight`, `weight`).
     */
    weightName?: string;
    /** Name of the bias tensor. Defaults to the one named `bias` or ending in `.bias`; no bias tensor means 0. */
    biasName?: string;
}

/**
 * The PPM's linear value head: score = tanh((w · h + b) / scale), where h is the backbone's final hidden state
 * (after the last norm) at the last token. Weights are held as float32.
 */
export class ValueHead {
    readonly weight: Float32Array;
    readonly bias: number;
    readonly scale: number;

    constructor(weight: ArrayLike<number>, bias = 0, options: ValueHeadOptions = {}) {
        const scale = options.scale ?? DEFAULT_VALUE_SCALE;
        if (!(scale > 0) || !Number.isFinite(scale)) throw new RstarError("INVALID_ARGUMENT", `value head scale must be a finite number > 0, got ${scale}`);
        if (weight.length === 0) throw new RstarError("INVALID_ARGUMENT", "value head weight is empty");
        if (!Number.isFinite(bias)) throw new RstarError("INVALID_ARGUMENT", `value head bias must be finite, got ${bias}`);
        this.weight = Float32Array.from(weight);
        this.bias = bias;
        this.scale = scale;
    }

    /** The hidden size the head expects. */
    get hiddenSize(): number {
        return this.weight.length;
    }

    /** w · h + b, accumulated in float64. Throws INVALID_ARGUMENT on a hidden state of the wrong length. */
    raw(hidden: ArrayLike<number>): number {
        if (hidden.length !== this.weight.length) {
            throw new RstarError("INVALID_ARGUMENT", `hidden state has ${hidden.length} values; the value head expects ${this.weight.length} (is the head from the same backbone?)`, {
                details: { got: hidden.length, expected: this.weight.length },
            });
        }
        let sum = this.bias;
        for (let i = 0; i < this.weight.length; i += 1) sum += (this.weight[i] as number) * (hidden[i] as number);
        return sum;
    }

    /** tanh(raw / scale), in [-1, 1]. */
    score(hidden: ArrayLike<number>): number {
        return Math.tanh(this.raw(hidden) / this.scale);
    }

    /** Loads a head from a `.safetensors` file (F32, F16, BF16 or F64); errors name the file and tensor. */
    static async load(path: string, options: LoadValueHeadOptions = {}): Promise<ValueHead> {
        if (/\.(bin|pt|pth)$/i.test(path)) {
            throw new InputError(
                `PyTorch pickles are not read directly; convert the head once with:\n  ${CONVERT_COMMAND(path)}`,
                { file: path },
            );
        }
        return ValueHead.fromSafetensors(await readSafetensorsFile(path), options);
    }

    /** Builds a head from a parsed safetensors file. */
    static fromSafetensors(file: SafetensorsFile, options: LoadValueHeadOptions = {}): ValueHead {
        const weight = file.tensor(options.weightName ?? pickName(file, "weight", true) ?? "weight");
        const biasName = options.biasName ?? pickName(file, "bias", false);
        const bias = biasName === undefined ? undefined : file.tensor(biasName);
        const hidden = weightLength(file.source, weight);
        if (bias !== undefined && bias.data.length !== 1) {
            throw new InputError(`bias tensor "${bias.name}" has shape [${bias.shape.join(", ")}]; a value head has one output, so expected [1] or []`, {
                file: file.source,
                field: bias.name,
            });
        }
        for (const value of weight.data) {
            if (!Number.isFinite(value)) throw new InputError(`weight tensor "${weight.name}" holds a non-finite value`, { file: file.source, field: weight.name });
        }
        const head = new ValueHead(weight.data.subarray(0, hidden), bias?.data[0] ?? 0, options);
        return head;
    }
}

/** `python` one-liner that turns the official `value_head.bin` (a pickled state dict) into safetensors. */
export const CONVERT_COMMAND = (path = "value_head.bin"): string =>
    `python -c "import sys,torch; from safetensors.torch import save_file; sd=torch.load(sys.argv[1], map_location='cpu'); ` +
    `save_file({k: v.float().contiguous() for k, v in sd.items()}, sys.argv[2])" ${path} ${path.replace(/\.(bin|pt|pth)$/i, "")}.safetensors`;

function pickName(file: SafetensorsFile, suffix: string, required: boolean): string | undefined {
    const matches = file.names.filter((name) => name === suffix || name.endsWith(`.${suffix}`));
    if (matches.length === 1) return matches[0];
    if (matches.length === 0 && !required) return undefined;
    throw new InputError(
        matches.length === 0
            ? `no value-head ${suffix} tensor (named "${suffix}" or "*.${suffix}"); the file has: ${file.names.join(", ") || "no tensors"}`
            : `several candidate ${suffix} tensors (${matches.join(", ")}); name the one to use (weightName / biasName)`,
        { file: file.source, field: suffix },
    );
}

/** A linear head to one output is [1, H] (torch Linear) or [H]. */
function weightLength(source: string, weight: Tensor): number {
    const shape = weight.shape;
    const ok = (shape.length === 1 && (shape[0] ?? 0) > 0) || (shape.length === 2 && shape[0] === 1 && (shape[1] ?? 0) > 0);
    if (!ok) {
        throw new InputError(`weight tensor "${weight.name}" has shape [${shape.join(", ")}]; a value head maps the hidden state to one number, so expected [1, hidden] or [hidden]`, {
            file: source,
            field: weight.name,
        });
    }
    return weight.data.length;
}
