"""Building and starting the dashboard leaves the checkout as it found it (`make test`
keeps `git status` clean)."""

from __future__ import annotations

from tests.browser.conftest import files_a_build_may_rewrite


def test_dashboard_build_rewrites_no_committed_file(
    dashboard: str, before_dashboard_build: dict[str, bytes]
) -> None:
    # `dashboard` is up, so Reflex has installed its packages and copied its lockfiles
    # back to reflex.lock/. A difference here means the committed lockfiles are not
    # what the build writes: commit the files it wrote, byte for byte.
    after = files_a_build_may_rewrite()
    changed = sorted(
        name
        for name in before_dashboard_build.keys() | after.keys()
        if before_dashboard_build.get(name) != after.get(name)
    )
    assert changed == [], f"the dashboard build rewrote {changed}"
