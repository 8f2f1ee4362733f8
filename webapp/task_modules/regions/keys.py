"""The keys that open a region set without a session: its crop list, its annotations."""

from __future__ import annotations

from webapp.capabilities import issue

CROP_LIST = "crop-list"
ANNOTATIONS = "annotations"


def crop_list_key(ref: str) -> str:
    """The key the processing API reads a crop list by: valid as long as a run may last."""
    return issue(CROP_LIST, ref)


def share_key(ref: str) -> str:
    """The key of a share link to a region set's annotations."""
    return issue(ANNOTATIONS, ref)
