"""Notes in a review item's thread: the one place they are written (an annotator's with an answer, through
`claims.submit`; an admin's from the item's page)."""

from __future__ import annotations

from django.contrib.auth.models import User

from auditor.inputs import NUL, BadInput
from auditor.queue.models import ItemNote, Review


def note_text(raw: str) -> str:
    """A note's text, stripped; BadInput naming the field when it is empty, too long or holds a NUL."""
    text = raw.strip()
    if not text:
        raise BadInput("field 'text': the note is empty; write something first")
    if len(text) > ItemNote.MAX_CHARS:
        raise BadInput(f"field 'text': {len(text):,} characters, at most {ItemNote.MAX_CHARS:,}; shorten the note")
    if NUL in text:
        raise BadInput("field 'text': contains a NUL character; remove it and send the note again")
    return text


def add_note(item_id: int, user: User, text: str, *, review: Review | None = None) -> ItemNote:
    """The note on the item's thread, `text` checked (note_text); with `review`, the answer it came with, kept once
    however often the same answer and note are sent."""
    text = note_text(text)
    if review is not None:
        earlier = ItemNote.objects.filter(review=review, text=text).first()
        if earlier is not None:
            return earlier
    return ItemNote.objects.create(item_id=item_id, user=user, review=review, text=text)
