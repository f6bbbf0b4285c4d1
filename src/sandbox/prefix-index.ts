/**
 * Which worker holds the namespace a program produced (prefix reuse, see docs/sandbox.md). A program whose code is
 * a cached program followed by a newline and more code is sent to that worker with the cached program's length, so
 * that the worker runs only the new code. The worker decides whether the hint is usable (it checks the text
 * itself); a wrong or stale hint only costs a full run.
 *
 * Entries are recorded when a program is sent (so that the next step of a trajectory can follow its prefix into
 * the same worker's pipeline before the prefix's answer arrives) and removed when the worker says it did not cache
 * the program, when it is retired, or when a worker holds more than `perWorker` entries (oldest first, as the
 * worker's own cache evicts).
 */
export class PrefixIndex<PrefixOwner extends object> {
    private readonly owners = new Map<string, PrefixOwner>();
    /** How many entries have each code length: a cheap filter before a string lookup. */
    private readonly lengths = new Map<number, number>();
    private readonly byOwner = new Map<PrefixOwner, string[]>();

    constructor(private readonly perWorker: number) {}

    get size(): number {
        return this.owners.size;
    }

    /** The longest recorded program that `code` extends at a line break, and its worker. */
    lookup(code: string): { worker: PrefixOwner; length: number } | undefined {
        if (this.owners.size === 0) return undefined;
        let at = code.lastIndexOf("\n");
        while (at > 0) {
            if (this.lengths.has(at)) {
                const owner = this.owners.get(code.slice(0, at));
                if (owner !== undefined) return { worker: owner, length: at };
            }
            at = code.lastIndexOf("\n", at - 1);
        }
        return undefined;
    }

    expect(code: string, owner: PrefixOwner): void {
        if (this.perWorker === 0) return;
        const previous = this.owners.get(code);
        if (previous === owner) return;
        if (previous !== undefined) this.forget(code, previous);
        this.owners.set(code, owner);
        this.lengths.set(code.length, (this.lengths.get(code.length) ?? 0) + 1);
        const keys = this.byOwner.get(owner) ?? [];
        keys.push(code);
        this.byOwner.set(owner, keys);
        while (keys.length > this.perWorker) this.remove(keys.shift() as string, owner);
    }

    forget(code: string, owner: PrefixOwner): void {
        if (this.owners.get(code) !== owner) return;
        this.remove(code, owner);
        const keys = this.byOwner.get(owner);
        const at = keys?.lastIndexOf(code) ?? -1;
        if (keys !== undefined && at >= 0) keys.splice(at, 1);
    }

    dropWorker(owner: PrefixOwner): void {
        for (const code of this.byOwner.get(owner) ?? []) this.remove(code, owner);
        this.byOwner.delete(owner);
    }

    private remove(code: string, owner: PrefixOwner): void {
        if (this.owners.get(code) !== owner) return;
        this.owners.delete(code);
        const count = (this.lengths.get(code.length) ?? 1) - 1;
        if (count <= 0) this.lengths.delete(code.length);
        else this.lengths.set(code.length, count);
    }
}
