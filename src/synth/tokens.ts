/** The teacher's stand-in tokenizer: words, numbers, whitespace runs and single symbols each count as one token. */
const TOKEN = /\s+|[A-Za-z_]+|\d+|[^\sA-Za-z_\d]/g;

export function countTokens(text: string): number {
    return (text.match(TOKEN) ?? []).length;
}

/** The first `limit` tokens of `text`. */
export function firstTokens(text: string, limit: number): string {
    return (text.match(TOKEN) ?? []).slice(0, limit).join("");
}
