"""A handler module loads with the cyclic garbage collector off; what it loaded is then frozen.

Importing this module turns the collector off, so it must be a handler's first import;
`loaded()`, at the end of the handler module, freezes everything loaded so far (`gc.freeze`:
the permanent generation, which later collections skip) and turns the collector back on.
What a handler loads at init (boto3's service models, pydantic's schemas, the routes) lives
as long as the execution environment, so the collections Python would run while loading it
free nothing and only lengthen the cold start, and leaving it out of later collections keeps
each invocation's collection pauses short.

`loaded()` also checks the function's environment (`settings.check_environment`): in the cloud a
missing table, queue or secret variable fails the init, naming the variable.
"""

from __future__ import annotations

import gc

gc.disable()


def loaded() -> None:
    from hub.platform import settings

    settings.check_environment()
    gc.freeze()
    gc.enable()
