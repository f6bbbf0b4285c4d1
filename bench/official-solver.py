"""Runs the official rStar-Math solver (branch rStar-math of microsoft/rStar, exported to a directory) against an
OpenAI-compatible completions server, for `npm run bench -- "official schedule" --official DIR`.

The official solver calls vLLM in process (`LLM.generate` on a GPU). Here a stand-in `vllm` module sends each prompt of
a `generate` call to the server at once (as vLLM batches them) and returns vLLM's output objects; everything else is
the official code as exported: `Solver.solve`, the MCTS agents, the per-depth pebble process pool, the
`PythonInterpreter` tool with timeout_decorator, and its answer checkers. Modules the solver imports but this run never
calls (torch, transformers: the reward model and vLLM's engine set-up) are replaced; of the optional answer checkers,
`math_evaluation`, `latex2sympy2` and `word2number` are replaced by ones that never match (the official `math_equal`
and exact comparison decide numeric answers).

Needs, besides the export: pydantic 2, omegaconf, pebble, termcolor, timeout_decorator, tqdm, sympy, regex, pyparsing
(on Debian: apt-get install python3-omegaconf python3-pebble python3-termcolor python3-timeout-decorator python3-tqdm).

Prints one JSON line on stdout: seconds (Solver.solve only), prompts, problems, pass_any.
"""
import argparse
import atexit
import json
import os
import shutil
import sys
import tempfile
import time
import types
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def module(name, **attributes):
    created = types.ModuleType(name)
    created.__dict__.update(attributes)
    sys.modules[name] = created
    return created


class SamplingParams:
    def __init__(self, **fields):
        self.__dict__.update(fields)


class CompletionOutput:
    def __init__(self, index, text, finish_reason, stop_reason):
        self.index = index
        self.text = text
        self.finish_reason = finish_reason
        self.stop_reason = stop_reason


class RequestOutput:
    def __init__(self, prompt, outputs):
        self.prompt = prompt
        self.outputs = outputs


class ServerLLM:
    """vLLM's `LLM.generate`, answered by an OpenAI-compatible server: every prompt of the call in flight at once."""

    prompts = 0

    def __init__(self, url, model, slots):
        self.url = url.rstrip("/") + "/completions"
        self.model = model
        self.pool = ThreadPoolExecutor(max_workers=slots)

    def complete(self, prompt, params):
        body = {"model": self.model, "prompt": prompt, "n": params.n, "temperature": params.temperature,
                "max_tokens": params.max_tokens, "stop": list(params.stop), "skip_special_tokens": False}
        if getattr(params, "seed", None) is not None:
            body["seed"] = params.seed
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=600) as response:
            choices = json.load(response)["choices"]
        outputs = [CompletionOutput(c["index"], c["text"], c.get("finish_reason"), c.get("stop_reason")) for c in choices]
        return RequestOutput(prompt, outputs)

    def generate(self, prompts, sampling_params=None):
        ServerLLM.prompts += len(prompts)
        return list(self.pool.map(lambda prompt: self.complete(prompt, sampling_params), prompts))


def install_stand_ins(url, model, slots):
    vllm = module("vllm", LLM=ServerLLM, SamplingParams=SamplingParams)
    vllm.outputs = module("vllm.outputs", RequestOutput=RequestOutput, CompletionOutput=CompletionOutput)
    try:
        import torch  # noqa: F401
    except ImportError:
        nn = module("torch.nn", Module=object)
        module("torch", nn=nn, no_grad=None, tanh=None, tensor=None)
    module("math_evaluation", is_equiv=lambda a, b: False)
    module("latex2sympy2", latex2sympy=lambda text: (_ for _ in ()).throw(ValueError("latex2sympy2 not installed")))
    w2n = types.SimpleNamespace(word_to_num=lambda text: (_ for _ in ()).throw(ValueError("word2number not installed")))
    module("word2number", w2n=w2n)

    def llm_engine(config):
        params = SamplingParams(temperature=config.temperature, top_k=config.top_k, top_p=config.top_p,
                                best_of=config.best_of, max_tokens=config.max_tokens, n=config.n_generate_sample,
                                stop=list(config.stop), skip_special_tokens=False,
                                seed=config.seed if config.temperature == 0 else None)
        return ServerLLM(url, model, slots), params

    module("rstar_deepthink.llms.llm_engine", llm_engine=llm_engine, rm_engine=lambda config: (None, None, None))


def same_answer(gold, answer, math_equiv):
    """Numbers compare as numbers (this bench's answers are integers); anything else goes to the official checker."""
    try:
        return float(gold) == float(answer)
    except ValueError:
        return math_equiv(gold, answer)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True, help="an export of microsoft/rStar, branch rStar-math")
    parser.add_argument("--url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True, help="JSONL records with question and answer")
    parser.add_argument("--config", default="config/sample_mcts.yaml", help="the official config, relative to --repo")
    parser.add_argument("--prompt-path", help="the official prompt file; default: sft_prompt.json's template as the official trainer formats it (no blank line after the question)")
    parser.add_argument("--num-few-shot", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--slots", type=int, default=256, help="requests in flight at once (vLLM's max_num_seqs)")
    parser.add_argument("--isolated", action="store_true", help="run every program in fresh globals (the official tool shares one globals dict per process, so names leak between programs)")
    parser.add_argument("--out", help="write each problem's tree states here (JSONL, as main.py's `rstar` field)")
    args = parser.parse_args()

    began = time.perf_counter()
    repo = os.path.abspath(args.repo)
    os.chdir(repo)  # the configs name the few-shot files relative to the repository
    sys.path.insert(0, repo)
    install_stand_ins(args.url, args.model, args.slots)
    from omegaconf import OmegaConf
    from rstar_deepthink.agents import MCTS
    from rstar_deepthink.agents.utils import math_equiv
    from rstar_deepthink.config import BaseConfig
    from rstar_deepthink.solver import Solver
    from rstar_deepthink.constants import NO_VALID_CHILD, TOO_MANY_CODE_ERRORS, TOO_MANY_STEPS
    if args.isolated:
        from rstar_deepthink.agents import tree
        from rstar_deepthink.tools.python_tool import PythonInterpreter
        tree.tools["python_interpreter"] = lambda query: PythonInterpreter(globals={}, locals=None).run(query)
    failures = {NO_VALID_CHILD, TOO_MANY_CODE_ERRORS, TOO_MANY_STEPS}

    # As main.py builds it, with this bench's overrides (the simulated policy reads the SFT prompt, no few-shot).
    config = OmegaConf.merge(OmegaConf.structured(BaseConfig), OmegaConf.load(args.config))
    config = OmegaConf.create(OmegaConf.to_yaml(config, resolve=True))
    if args.prompt_path is None:
        # prompt_wrap appends step_delim to the question before pot_suffix, which then adds "\n": a blank line the
        # official trainer (train/train_SFT.py) and `rstar search --prompt sft` do not have. Without that "\n" in the
        # suffix, both send the same prompts.
        scratch = tempfile.mkdtemp(prefix="rstar-official-prompt-")
        atexit.register(shutil.rmtree, scratch, True)
        args.prompt_path = os.path.join(scratch, "sft_prompt.json")
        with open(args.prompt_path, "w", encoding="utf-8") as handle:
            json.dump({"pot_format_instructions": "", "pot_suffix": "<|user|>:\n{input}<|assistant|>: Let's think step by step and solve the problem with code."}, handle)
    config.prompt_path = args.prompt_path
    config.num_few_shot = args.num_few_shot
    config.iterations = args.iterations
    config.model_dir = repo  # the agents check that it exists; no model is loaded
    config.save_intermediate_rollouts = False

    with open(args.data, encoding="utf-8") as handle:
        data = [json.loads(line) for line in handle if line.strip()]
    stdout = sys.stdout
    sys.stdout = sys.stderr  # the solver prints every step; keep stdout for the result line
    solver = Solver(config=config)
    agents = [MCTS(config=config, question=d["question"], ground_truth=str(d["answer"])) for d in data]
    start = time.perf_counter()
    states = solver.solve(agents, "", data)
    seconds = time.perf_counter() - start
    solved = 0
    for d in data:
        answers = [s.get("final_answer", "") for s in states[d["question"]].values()]
        if any(a and a not in failures and same_answer(str(d["answer"]), a, math_equiv) for a in answers):
            solved += 1
    sys.stdout = stdout
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            for d in data:
                handle.write(json.dumps({**d, "rstar": states[d["question"]]}, ensure_ascii=False) + "\n")
    print(json.dumps({"setup_seconds": start - began, "after_seconds": time.perf_counter() - start - seconds, "seconds": seconds, "prompts": ServerLLM.prompts, "problems": len(data), "pass_any": solved / len(data)}))


if __name__ == "__main__":
    main()
