"""Hooks for scripts/schemathesis.sh.

The one call the fuzzer may not make: PUT /api/v1/directory/users/{id} on the person its own token
belongs to. With `active: false` (or without the administrators' group) it would lock the fuzzer out
and turn every later call into a 401, ending the run's coverage silently. That person's id is random
and used nowhere else, so only the stateful phase can learn it (from GET /api/v1/directory/users);
such a call is sent to an id that is nobody instead, so the operation is still exercised.
"""

import os

import schemathesis

ADMIN = os.environ["SESAME_FUZZ_ADMIN"]
SELF = "/api/v1/directory/users/{id}"


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() == "PUT" and case.path == SELF and (case.path_parameters or {}).get("id") == ADMIN:
        case.path_parameters["id"] = ADMIN + "-nobody"
