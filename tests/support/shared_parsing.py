"""What a test process reads or parses once for all its offline clouds (a suite builds hundreds,
and runs thousands of executions of the same dozen state machines).

Both are pure, read-only results, so sharing them changes nothing a test observes:

- botocore's service models. moto gives every `mock_aws` its own default boto3 session, so each
  cloud would read the same JSON models from disk again (about 0.3 s a cloud). botocore already
  shares one loader between all the clients of a session; the tests share it between sessions.
- the ANTLR parse tree of a state machine definition. moto parses the definition on
  `CreateStateMachine` and again at the start of every execution (about 0.1 s each); the tree
  is nine tenths of that. The first parse of a definition is moto's own; later ones reuse its
  tree and still build fresh evaluation components from it (moto's preprocessor only reads the
  tree), so no two executions share any state. A definition that fails to parse is kept nowhere
  and fails every time.

`install()` returns the function that undoes both. tests/integration/test_shared_parsing.py
checks that moto and botocore still call what this replaces, so an upgrade fails loudly.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from typing import Any

# moto's ASL parser takes a second to import: it is used only where it is loaded already (every
# offline-cloud test module imports it at collection, through aiops_local), so a unit-test run
# does not pay for it.
ASL_PARSER_MODULE = "moto.stepfunctions.parser.asl.parse.asl_parser"
# Distinct definitions a process keeps trees for (a run has a few dozen).
MAX_TREES = 256

Parse = Callable[[str], tuple[Any, Any]]


def reuse_trees(parse: Parse, preprocess: Callable[[Any], Any]) -> Parse:
    """`parse` (definition → (program, tree)) that parses each definition once: afterwards a
    new program is built from the kept tree by `preprocess`."""
    trees: dict[str, Any] = {}

    def parse_once(definition: str) -> tuple[Any, Any]:
        tree = trees.get(definition)
        if tree is None:
            program, tree = parse(definition)  # raises for a bad definition: nothing kept
            if len(trees) >= MAX_TREES:
                trees.pop(next(iter(trees)))
            trees[definition] = tree
            return program, tree
        return preprocess(tree), tree

    return parse_once


def install() -> Callable[[], None]:
    import botocore.loaders
    import botocore.session

    undo: list[Callable[[], None]] = []
    create_loader = botocore.session.create_loader
    botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)
    undo.append(lambda: setattr(botocore.session, "create_loader", create_loader))
    if ASL_PARSER_MODULE in sys.modules:
        module: Any = importlib.import_module(ASL_PARSER_MODULE)
        parser = module.AmazonStateLanguageParser
        parse = parser.__dict__["parse"]
        parser.parse = staticmethod(
            reuse_trees(parse.__func__, lambda tree: module.Preprocessor().visit(tree))
        )
        undo.append(lambda: setattr(parser, "parse", parse))

    def uninstall() -> None:
        for step in reversed(undo):
            step()

    return uninstall
