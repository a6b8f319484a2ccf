"""Runs scim2-tester (https://pypi.org/project/scim2-tester/) against a running Sesame and fails
when any check fails. Usage: scim_compliance.py BASE_URL TOKEN. scim2-tester has no command line of
its own; this is the small driver its documentation describes (a scim2-client over httpx2)."""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    scim = SyncSCIMClient(http)
    results = check_server(scim)
    counts: dict[str, int] = {}
    failed = []
    for result in results:
        counts[result.status.name] = counts.get(result.status.name, 0) + 1
        if result.status in (Status.ERROR, Status.CRITICAL):
            failed.append(result)
        print(f"{result.status.name:8} {getattr(result, 'resource_type', '') or '':6} {result.title}: {result.reason or ''}")
    print("scim2-tester: " + ", ".join(f"{n} {k.lower()}" for k, n in sorted(counts.items())))
    passed = counts.get("SUCCESS", 0)
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
