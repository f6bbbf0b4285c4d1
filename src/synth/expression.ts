/** The arithmetic a solution step computes: integers, variables and Python's + - * // %. */
export type Operator = "+" | "-" | "*" | "//" | "%";

export type Operand = { kind: "literal"; value: number } | { kind: "variable"; name: string } | Expression;

export interface Expression {
    kind: "binary";
    op: Operator;
    left: Operand;
    right: Operand;
}

export const literal = (value: number): Operand => ({ kind: "literal", value });
export const variable = (name: string): Operand => ({ kind: "variable", name });
export const binary = (op: Operator, left: Operand, right: Operand): Expression => ({ kind: "binary", op, left, right });

const precedence: Record<Operator, number> = { "+": 1, "-": 1, "*": 2, "//": 2, "%": 2 };

/** Python source for an operand, with parentheses only where Python's precedence needs them. */
export function toPython(operand: Operand): string {
    switch (operand.kind) {
        case "literal":
            return operand.value < 0 ? `(${operand.value})` : String(operand.value);
        case "variable":
            return operand.name;
        case "binary": {
            const own = precedence[operand.op];
            const left = toPython(operand.left);
            const right = toPython(operand.right);
            const leftText = operand.left.kind === "binary" && precedence[operand.left.op] < own ? `(${left})` : left;
            const rightText = operand.right.kind === "binary" && precedence[operand.right.op] <= own ? `(${right})` : right;
            return `${leftText} ${operand.op} ${rightText}`;
        }
    }
}

/** Evaluates with Python's integer semantics (floor division and modulo round toward minus infinity). */
export function evaluate(operand: Operand, variables: ReadonlyMap<string, number>): number {
    switch (operand.kind) {
        case "literal":
            return operand.value;
        case "variable": {
            const value = variables.get(operand.name);
            if (value === undefined) throw new Error(`name '${operand.name}' is not defined`);
            return value;
        }
        case "binary": {
            const left = evaluate(operand.left, variables);
            const right = evaluate(operand.right, variables);
            switch (operand.op) {
                case "+":
                    return left + right;
                case "-":
                    return left - right;
                case "*":
                    return left * right;
                case "//":
                    if (right === 0) throw new Error("integer division or modulo by zero");
                    return Math.floor(left / right);
                case "%":
                    if (right === 0) throw new Error("integer division or modulo by zero");
                    return ((left % right) + right) % right;
            }
        }
    }
}

/** Every literal in an operand, left to right. */
export function literals(operand: Operand): number[] {
    if (operand.kind === "literal") return [operand.value];
    if (operand.kind === "variable") return [];
    return [...literals(operand.left), ...literals(operand.right)];
}

/** Every variable name an operand reads, left to right. */
export function variablesOf(operand: Operand): string[] {
    if (operand.kind === "variable") return [operand.name];
    if (operand.kind === "literal") return [];
    return [...variablesOf(operand.left), ...variablesOf(operand.right)];
}
