import hljs from "highlight.js/lib/core";
import python from "highlight.js/lib/languages/python";
import type { TreeNode } from "./api.js";

hljs.registerLanguage("python", python);

/** The step format's markers, hidden when a step is shown to people (the raw text is one click away). */
export function stripMarkers(text: string): string {
    return text.replace(/<\/?code>|<end_of_step>|<end_of_code>|<end_of_answer>|<output>|<end_of_output>/g, "").replace(/^\n+|\n+$/g, "");
}

/** Python, highlighted by highlight.js (which escapes the code: model text never becomes markup). */
export function Code({ code }: { code: string }) {
    const html = hljs.highlight(code, { language: "python", ignoreIllegals: true }).value;
    return (
        <pre class="code">
            <code class="hljs language-python" dangerouslySetInnerHTML={{ __html: html }} />
        </pre>
    );
}

/** One step: its program and observation (code steps) or its text. */
export function StepBody({ node }: { node: TreeNode }) {
    if (node.parent === null) return <pre class="text">{stripMarkers(node.text)}</pre>;
    if (node.code !== null) {
        return (
            <div class="step-body">
                <Code code={stripMarkers(node.code)} />
                {node.observation !== null ? (
                    <pre class="observation" aria-label="observation">
                        {node.observation.trim() === "" ? "(printed nothing)" : stripMarkers(node.observation)}
                    </pre>
                ) : null}
            </div>
        );
    }
    return <pre class="text">{stripMarkers(node.text)}</pre>;
}

const fixed = (value: number | null, digits = 3) => (value === null ? "–" : value.toFixed(digits));

/** The selected node: where it is, its numbers and its step. */
export function NodeDetail({ node }: { node: TreeNode }) {
    return (
        <section class="node-detail" id="node-detail" aria-live="polite">
            <h3>
                Step <span class="tag">{node.tag}</span> <span class="kind">{node.kind}</span>
                {node.correct === true ? <span class="badge ok">correct</span> : node.correct === false ? <span class="badge bad">wrong</span> : null}
            </h3>
            <dl class="numbers">
                <div>
                    <dt>Q</dt>
                    <dd id="node-q">{fixed(node.q)}</dd>
                </div>
                <div>
                    <dt>visits</dt>
                    <dd>{node.visits}</dd>
                </div>
                <div>
                    <dt>first value</dt>
                    <dd>{fixed(node.value)}</dd>
                </div>
                <div>
                    <dt>PPM score</dt>
                    <dd>{fixed(node.ppm)}</dd>
                </div>
                {node.terminal_reason !== null ? (
                    <div>
                        <dt>ends</dt>
                        <dd>{node.terminal_reason}</dd>
                    </div>
                ) : null}
                {node.final_answer !== null ? (
                    <div>
                        <dt>answer</dt>
                        <dd class="answer">{node.final_answer}</dd>
                    </div>
                ) : null}
            </dl>
            <StepBody node={node} />
            <details class="raw">
                <summary>raw step text</summary>
                <pre class="text">{node.text}</pre>
            </details>
        </section>
    );
}
