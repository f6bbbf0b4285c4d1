import { hierarchy, tree as treeLayout, type HierarchyPointNode } from "d3-hierarchy";
import { useEffect, useMemo, useRef } from "preact/hooks";
import type { TreeNode } from "./api.js";
import { stripMarkers } from "./step.js";

export type ColourScale = "q" | "ppm" | "value";

export const COLOUR_SCALES: { id: ColourScale; label: string }[] = [
    { id: "q", label: "Q value" },
    { id: "ppm", label: "PPM score" },
    { id: "value", label: "first value" },
];

interface Shown {
    node: TreeNode;
    children: Shown[];
    /** Children hidden because this node is collapsed. */
    hidden: number;
}

const STOPS: [number, number, number][] = [
    [215, 48, 39],
    [247, 247, 247],
    [26, 152, 80],
];

/** Diverging red-white-green for a value in [-1, 1]; grey when there is none. */
export function colourOf(value: number | null): string {
    if (value === null || !Number.isFinite(value)) return "#c4c9cf";
    const t = Math.max(-1, Math.min(1, value));
    const [a, b] = t < 0 ? [STOPS[1], STOPS[0]] : [STOPS[1], STOPS[2]];
    const f = Math.abs(t);
    const mix = (i: number) => Math.round((a as number[])[i]! + ((b as number[])[i]! - (a as number[])[i]!) * f);
    return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

export function scaleValue(node: TreeNode, scale: ColourScale): number | null {
    if (node.parent === null && scale !== "q") return null;
    return scale === "q" ? node.q : scale === "ppm" ? node.ppm : node.value;
}

/** Tags from the root to `tag`. */
export function pathTo(tag: string | null): string[] {
    if (tag === null) return [];
    const parts = tag.split(".");
    return parts.map((_, i) => parts.slice(0, i + 1).join("."));
}

export interface TreeViewProps {
    nodes: TreeNode[];
    selected: string;
    onSelect: (tag: string) => void;
    expanded: Set<string>;
    onToggle: (tag: string) => void;
    /** Tags on the path to the chosen answer (highlighted). */
    chosenPath: Set<string>;
    scale: ColourScale;
    sizeByVisits: boolean;
}

const DX = 62; // vertical gap between siblings
const DY = 190; // horizontal gap between depths

/**
 * The search tree as an SVG diagram laid out by d3-hierarchy (root on the left). Collapsed nodes show how many
 * children they hide. Keyboard: arrows move (left: parent, right: open / first child, up/down: siblings), Enter or
 * Space opens and closes, Home goes to the root.
 */
export function TreeView(props: TreeViewProps) {
    const { nodes, selected, expanded, scale, sizeByVisits, chosenPath } = props;
    const byTag = useMemo(() => new Map(nodes.map((node) => [node.tag, node])), [nodes]);
    const childrenOf = useMemo(() => {
        const map = new Map<string, TreeNode[]>();
        for (const node of nodes) if (node.parent !== null) map.set(node.parent, [...(map.get(node.parent) ?? []), node]);
        return map;
    }, [nodes]);
    const maxVisits = useMemo(() => Math.max(1, ...nodes.map((node) => node.visits)), [nodes]);
    const root = nodes[0];

    const layout = useMemo(() => {
        if (root === undefined) return null;
        const build = (node: TreeNode): Shown => {
            const kids = childrenOf.get(node.tag) ?? [];
            const open = expanded.has(node.tag);
            return { node, children: open ? kids.map(build) : [], hidden: open ? 0 : kids.length };
        };
        const h = hierarchy(build(root), (shown) => shown.children);
        return treeLayout<Shown>().nodeSize([DX, DY])(h);
    }, [root, childrenOf, expanded]);

    const svgRef = useRef<SVGSVGElement>(null);
    const wrapRef = useRef<HTMLDivElement>(null);
    const points = layout === null ? [] : layout.descendants();
    const minX = Math.min(0, ...points.map((p) => p.x));
    const maxX = Math.max(0, ...points.map((p) => p.x));
    const maxY = Math.max(0, ...points.map((p) => p.y));
    const pad = 40;
    const width = maxY + 2 * DY;
    const height = maxX - minX + 2 * pad;

    // Keep the selected node in view.
    useEffect(() => {
        const element = svgRef.current?.querySelector(`[data-tag="${CSS.escape(selected)}"]`);
        if (element instanceof SVGGraphicsElement && "scrollIntoView" in element) element.scrollIntoView({ block: "nearest", inline: "nearest" });
    }, [selected, layout]);

    if (layout === null || root === undefined) return <p class="note">This problem has no tree (it failed before its search began).</p>;

    const radius = (node: TreeNode) => (sizeByVisits ? 4 + 9 * Math.sqrt(node.visits / maxVisits) : 7);

    const onKey = (event: KeyboardEvent) => {
        const node = byTag.get(selected);
        if (node === undefined) return;
        const siblings = node.parent === null ? [node] : (childrenOf.get(node.parent) ?? []);
        const at = siblings.findIndex((s) => s.tag === node.tag);
        const kids = childrenOf.get(node.tag) ?? [];
        let handled = true;
        switch (event.key) {
            case "ArrowLeft":
                if (node.parent !== null) props.onSelect(node.parent);
                break;
            case "ArrowRight":
                if (kids.length > 0 && !expanded.has(node.tag)) props.onToggle(node.tag);
                else if (kids[0] !== undefined) props.onSelect(kids[0].tag);
                break;
            case "ArrowUp":
                if (at > 0) props.onSelect((siblings[at - 1] as TreeNode).tag);
                break;
            case "ArrowDown":
                if (at < siblings.length - 1) props.onSelect((siblings[at + 1] as TreeNode).tag);
                break;
            case "Enter":
            case " ":
                if (kids.length > 0) props.onToggle(node.tag);
                break;
            case "Home":
                props.onSelect(root.tag);
                break;
            default:
                handled = false;
        }
        if (handled) event.preventDefault();
    };

    const links = layout.links();
    const label = (node: TreeNode) => {
        if (node.parent === null) return "question";
        if (node.final_answer !== null && node.terminal_reason === "answer") return `= ${node.final_answer.length > 14 ? node.final_answer.slice(0, 13) + "…" : node.final_answer}`;
        if (node.terminal_reason !== null && node.terminal_reason !== "dead-end") return node.terminal_reason;
        // The step's first line (a code step's comment says what it does), short.
        const line = stripMarkers(node.code ?? node.text)
            .split("\n")
            .map((text) => text.replace(/^#\s*/, "").trim())
            .find((text) => text !== "");
        if (line === undefined) return node.tag.split(".").slice(-1)[0] ?? "";
        return line.length > 24 ? line.slice(0, 23) + "…" : line;
    };

    return (
        <div class="tree-wrap" ref={wrapRef} tabIndex={0} role="tree" aria-label="search tree" onKeyDown={onKey} id="tree">
            <svg ref={svgRef} width={width} height={height} viewBox={`${-DY / 2} ${minX - pad} ${width} ${height}`}>
                <g class="links">
                    {links.map((link) => {
                        const on = chosenPath.has(link.target.data.node.tag);
                        const s = link.source as HierarchyPointNode<Shown>;
                        const t = link.target as HierarchyPointNode<Shown>;
                        const mid = (s.y + t.y) / 2;
                        return <path key={t.data.node.tag} class={on ? "link chosen" : "link"} d={`M${s.y},${s.x}C${mid},${s.x} ${mid},${t.x} ${t.y},${t.x}`} />;
                    })}
                </g>
                <g class="nodes">
                    {points.map((point) => {
                        const node = point.data.node;
                        const r = radius(node);
                        const kids = childrenOf.get(node.tag)?.length ?? 0;
                        const classes = ["node", node.tag === selected ? "selected" : "", chosenPath.has(node.tag) ? "chosen" : "", node.correct === true ? "correct" : node.correct === false ? "wrong" : "", node.terminal_reason !== null ? "terminal" : ""].filter(Boolean).join(" ");
                        return (
                            <g
                                key={node.tag}
                                class={classes}
                                data-tag={node.tag}
                                role="treeitem"
                                aria-selected={node.tag === selected}
                                aria-expanded={kids > 0 ? expanded.has(node.tag) : undefined}
                                aria-label={`step ${node.tag}`}
                                transform={`translate(${point.y},${point.x})`}
                                onClick={() => props.onSelect(node.tag)}
                                onDblClick={() => kids > 0 && props.onToggle(node.tag)}
                            >
                                <title>{`${node.tag} · ${node.kind} · Q ${node.q.toFixed(3)} · visits ${node.visits}${node.ppm === null ? "" : ` · PPM ${node.ppm.toFixed(3)}`}`}</title>
                                <circle r={r} fill={colourOf(scaleValue(node, scale))} />
                                <text class="label" y={r + 12} text-anchor="middle">
                                    {label(node)}
                                </text>
                                {kids > 0 ? (
                                    <g
                                        class="toggle"
                                        data-toggle={node.tag}
                                        data-hidden={point.data.hidden}
                                        transform={`translate(0,${-r - 11})`}
                                        onClick={(event) => {
                                            event.stopPropagation();
                                            props.onToggle(node.tag);
                                        }}
                                    >
                                        <title>{point.data.hidden > 0 ? `show ${point.data.hidden} hidden step(s)` : "hide the steps below"}</title>
                                        <rect x={-11} y={-8} width={22} height={16} rx={4} />
                                        <text text-anchor="middle" dy="0.32em">{point.data.hidden > 0 ? `+${point.data.hidden}` : "−"}</text>
                                    </g>
                                ) : null}
                            </g>
                        );
                    })}
                </g>
            </svg>
        </div>
    );
}
