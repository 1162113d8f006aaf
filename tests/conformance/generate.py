"""Valid BPMN built from parts, for the differential suite.

A diagram is a tree of blocks: a task, a sequence, a parallel, inclusive or exclusive split of
2-6 branches with its join, an exclusive loop, an embedded subprocess, a call activity, a
multi-instance user task (sequential or parallel, over a cardinality or a collection) and a
subprocess whose error end event a boundary event catches, and a user task with an
interrupting or non-interrupting boundary timer. `blocks()` is the hypothesis
strategy; `render()` writes one tree as a BPMN file and the start data it expects.

Conditions read ``seed`` (start data) and the visit counts the driver submits (``n_<task>``,
see harness.visit_data), so either run takes the same paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

Block = tuple[Any, ...]

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'id="generated_definitions" targetNamespace="urn:parkflow:conformance">\n')


def blocks(max_leaves: int = 12, *, timers: bool = True) -> st.SearchStrategy[Block]:
    """Trees of blocks with at most about ``max_leaves`` tasks (and boundary timers)."""
    leaf = st.sampled_from([("user",), ("user",), ("script",)])

    def compound(inner: st.SearchStrategy[Block]) -> st.SearchStrategy[Block]:
        branches = st.lists(inner, min_size=2, max_size=6)
        timer = st.tuples(st.booleans(), st.integers(1, 72)).map(lambda t: ("timer", *t))
        return st.one_of(
            timer if timers else st.nothing(),
            st.lists(inner, min_size=2, max_size=4).map(lambda b: ("seq", b)),
            branches.map(lambda b: ("par", b)),
            branches.map(lambda b: ("incl", b)),
            st.lists(inner, min_size=2, max_size=4).map(lambda b: ("xor", b)),
            st.tuples(inner, st.integers(1, 4)).map(lambda t: ("loop", t[0], t[1])),
            inner.map(lambda b: ("sub", b)),
            inner.map(lambda b: ("call", b)),
            inner.map(lambda b: ("error", b)),
            st.tuples(st.booleans(), st.booleans(), st.integers(1, 4))
            .map(lambda t: ("multi", *t)),
        )

    return st.recursive(leaf, compound, max_leaves=max_leaves)


@dataclass
class _Container:
    """The flow elements of one process or subprocess being written."""

    parts: list[str] = field(default_factory=list)


@dataclass
class _Writer:
    processes: list[str] = field(default_factory=list)
    start_data: dict[str, Any] = field(default_factory=dict)
    count: int = 0
    errors: int = 0

    def new(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def flow(self, box: _Container, source: str, target: str,
             condition: str | None = None) -> str:
        flow_id = self.new("f")
        if condition is None:
            box.parts.append(f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" '
                             f'targetRef="{target}"/>')
        else:
            box.parts.append(
                f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
                f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
                '</bpmn:conditionExpression></bpmn:sequenceFlow>')
        return flow_id

    def node(self, box: _Container, tag: str, prefix: str, attrs: str = "",
             body: str = "") -> str:
        node_id = self.new(prefix)
        box.parts.append(f'<bpmn:{tag} id="{node_id}"{attrs}>{body}</bpmn:{tag}>')
        return node_id

    def block(self, box: _Container, block: Block) -> tuple[str, str]:
        """Write ``block`` into ``box``; its entry and exit node ids."""
        kind = block[0]
        return getattr(self, f"_{kind}")(box, *block[1:])

    def _user(self, box: _Container) -> tuple[str, str]:
        task = self.node(box, "userTask", "u", ' camunda:candidateGroups="reviewers"')
        return task, task

    def _script(self, box: _Container) -> tuple[str, str]:
        task_id = self.new("s")
        box.parts.append(f'<bpmn:scriptTask id="{task_id}" scriptFormat="python">'
                         f'<bpmn:script>v_{task_id} = seed * 2 + 1</bpmn:script>'
                         '</bpmn:scriptTask>')
        return task_id, task_id

    def _seq(self, box: _Container, parts: list[Block]) -> tuple[str, str]:
        entry, last = self.block(box, parts[0])
        for part in parts[1:]:
            first, end = self.block(box, part)
            self.flow(box, last, first)
            last = end
        return entry, last

    def _split(self, box: _Container, tag: str, branches: list[Block],
               conditions: list[str | None]) -> tuple[str, str]:
        split_id, join_id = self.new("g"), self.new("g")
        default_flow = ""
        inner: list[str] = []
        sub = _Container(inner)
        for branch, condition in zip(branches, conditions, strict=True):
            first, last = self.block(sub, branch)
            flow_id = self.flow(sub, split_id, first, condition)
            if condition is None and tag != "parallelGateway":
                default_flow = f' default="{flow_id}"'
            self.flow(sub, last, join_id)
        box.parts.append(f'<bpmn:{tag} id="{split_id}"{default_flow}/>')
        box.parts.append(f'<bpmn:{tag} id="{join_id}"/>')
        box.parts.extend(inner)
        return split_id, join_id

    def _par(self, box: _Container, branches: list[Block]) -> tuple[str, str]:
        return self._split(box, "parallelGateway", branches, [None] * len(branches))

    def _incl(self, box: _Container, branches: list[Block]) -> tuple[str, str]:
        conditions: list[str | None] = [f"seed % {i + 2} == 0" for i in range(len(branches) - 1)]
        return self._split(box, "inclusiveGateway", branches, [*conditions, None])

    def _xor(self, box: _Container, branches: list[Block]) -> tuple[str, str]:
        n = len(branches)
        conditions: list[str | None] = [f"seed % {n} == {i}" for i in range(n - 1)]
        return self._split(box, "exclusiveGateway", branches, [*conditions, None])

    def _loop(self, box: _Container, body: Block, rounds: int) -> tuple[str, str]:
        merge = self.node(box, "exclusiveGateway", "g")
        head, _ = self._user(box)
        first, last = self.block(box, body)
        out_id = self.new("f")
        decide = self.node(box, "exclusiveGateway", "g", f' default="{out_id}"')
        after = self.node(box, "exclusiveGateway", "g")
        self.flow(box, merge, head)
        self.flow(box, head, first)
        self.flow(box, last, decide)
        self.flow(box, decide, merge, f"n_{head} &lt; {rounds}")
        box.parts.append(f'<bpmn:sequenceFlow id="{out_id}" sourceRef="{decide}" '
                         f'targetRef="{after}"/>')
        return merge, after

    def _inner_process(self, body: Block) -> str:
        """Start, ``body``, end as the flow elements of a (sub)process."""
        inner = _Container()
        start = self.node(inner, "startEvent", "e")
        first, last = self.block(inner, body)
        end = self.node(inner, "endEvent", "e")
        self.flow(inner, start, first)
        self.flow(inner, last, end)
        return "".join(inner.parts)

    def _sub(self, box: _Container, body: Block) -> tuple[str, str]:
        sub_id = self.new("p")
        box.parts.append(f'<bpmn:subProcess id="{sub_id}">{self._inner_process(body)}'
                         '</bpmn:subProcess>')
        return sub_id, sub_id

    def _call(self, box: _Container, body: Block) -> tuple[str, str]:
        called = self.new("called")
        self.processes.append(f'<bpmn:process id="{called}" isExecutable="true">'
                              f'{self._inner_process(body)}</bpmn:process>')
        call_id = self.new("c")
        box.parts.append(f'<bpmn:callActivity id="{call_id}" calledElement="{called}"/>')
        return call_id, call_id

    def _error(self, box: _Container, body: Block) -> tuple[str, str]:
        """A subprocess that ends in an error for odd seeds, caught by its boundary."""
        self.errors += 1
        error_id = f"err{self.errors}"
        self.processes.append(f'<bpmn:error id="{error_id}" errorCode="E{self.errors}"/>')
        inner = _Container()
        start = self.node(inner, "startEvent", "e")
        first, last = self.block(inner, body)
        normal_flow = self.new("f")
        decide = self.node(inner, "exclusiveGateway", "g", f' default="{normal_flow}"')
        end = self.node(inner, "endEvent", "e")
        failed = self.node(inner, "endEvent", "e", "",
                           f'<bpmn:errorEventDefinition errorRef="{error_id}"/>')
        self.flow(inner, start, first)
        self.flow(inner, last, decide)
        self.flow(inner, decide, failed, "seed % 2 == 1")
        inner.parts.append(f'<bpmn:sequenceFlow id="{normal_flow}" sourceRef="{decide}" '
                           f'targetRef="{end}"/>')
        sub_id = self.new("p")
        box.parts.append(f'<bpmn:subProcess id="{sub_id}">{"".join(inner.parts)}'
                         '</bpmn:subProcess>')
        caught = self.node(box, "boundaryEvent", "b", f' attachedToRef="{sub_id}"',
                           f'<bpmn:errorEventDefinition errorRef="{error_id}"/>')
        handle, _ = self._user(box)
        merge = self.node(box, "exclusiveGateway", "g")
        self.flow(box, caught, handle)
        self.flow(box, handle, merge)
        self.flow(box, sub_id, merge)
        return sub_id, merge

    def _timer(self, box: _Container, interrupting: bool, hours: int) -> tuple[str, str]:
        """A user task with a boundary timer: taken over when interrupting, else a reminder."""
        task, _ = self._user(box)
        cancel = "true" if interrupting else "false"
        timer = self.node(box, "boundaryEvent", "t",
                          f' attachedToRef="{task}" cancelActivity="{cancel}"',
                          '<bpmn:timerEventDefinition><bpmn:timeDuration>'
                          f'"PT{hours}H"</bpmn:timeDuration></bpmn:timerEventDefinition>')
        handle, _ = self._user(box)
        self.flow(box, timer, handle)
        if not interrupting:
            end = self.node(box, "endEvent", "e")
            self.flow(box, handle, end)
            return task, task
        merge = self.node(box, "exclusiveGateway", "g")
        self.flow(box, handle, merge)
        self.flow(box, task, merge)
        return task, merge

    def _multi(self, box: _Container, sequential: bool, over_collection: bool,
               size: int) -> tuple[str, str]:
        task_id = self.new("m")
        flag = "true" if sequential else "false"
        if over_collection:
            self.start_data[f"items_{task_id}"] = [f"item{i}" for i in range(size)]
            loop = (f'<bpmn:multiInstanceLoopCharacteristics isSequential="{flag}" '
                    f'camunda:collection="items_{task_id}" '
                    f'camunda:elementVariable="item_{task_id}"/>')
        else:
            loop = (f'<bpmn:multiInstanceLoopCharacteristics isSequential="{flag}">'
                    f'<bpmn:loopCardinality>{size}</bpmn:loopCardinality>'
                    '</bpmn:multiInstanceLoopCharacteristics>')
        box.parts.append(f'<bpmn:userTask id="{task_id}" camunda:candidateGroups="reviewers">'
                         f'{loop}</bpmn:userTask>')
        return task_id, task_id


def render(block: Block, *, seed: int) -> tuple[bytes, dict[str, Any]]:
    """One diagram (process ``generated``) and its start data."""
    writer = _Writer(start_data={"seed": seed})
    main = _Container()
    start = writer.node(main, "startEvent", "e")
    first, last = writer.block(main, block)
    end = writer.node(main, "endEvent", "e")
    writer.flow(main, start, first)
    writer.flow(main, last, end)
    process = (f'<bpmn:process id="generated" isExecutable="true">{"".join(main.parts)}'
               '</bpmn:process>\n')
    errors = [p for p in writer.processes if p.startswith("<bpmn:error")]
    called = [p for p in writer.processes if not p.startswith("<bpmn:error")]
    xml = HEAD + "".join(errors) + process + "\n".join(called) + "\n</bpmn:definitions>\n"
    return xml.encode(), writer.start_data
