"""Searching submissions for staff on the masked summaries: receipt, ID number (masked), day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.enrolment import Enrolment
from sync.masking import mask_id_number
from sync.sealing import generate_keypair
from sync.search import SearchError, SearchQuery, id_number_matcher, search_submissions
from sync.store import Store, database_path, open_store

ZHANG = "11010519491231002X"
LI = "440305194103150027"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    _private, public = generate_keypair()
    store = open_store(database_path(tmp_path))
    store.save_enrolment(Enrolment(
        device_id="0f6c2b1e-6d3a-4c1b-9a51-1f2e3d4c5b6a", device_code="K7M", site_code="SZ01",
        token="tb_secret", sealing_public_key=public, catalog_signing_key=bytes(range(32)),
        central_url="http://127.0.0.1:8700", enrolled_at=datetime(2026, 11, 23, 2, 30, tzinfo=UTC)))
    yield store
    store.close()


def _submit(store: Store, id_number: str, when: datetime) -> str:
    return store.enqueue("residence-permit", "1", {"name": "张三", "id_number": id_number},
                         service_name={"zh_CN": "居住证", "en": "Residence permit"}, now=when).receipt_no


def test_search_by_receipt_id_number_and_day(store: Store) -> None:
    today = datetime.now(UTC).replace(microsecond=0)
    yesterday = today - timedelta(days=1)
    a = _submit(store, ZHANG, yesterday)
    b = _submit(store, ZHANG, today)
    c = _submit(store, LI, today)

    assert [e.receipt_no for e in search_submissions(store, SearchQuery(receipt_no=b.lower()))] == [b]
    assert search_submissions(store, SearchQuery(receipt_no="SZ01-K7M-991231-00001-0")) == []
    # the whole number: compared masked, newest first; the store never held it in the clear
    assert [e.receipt_no for e in search_submissions(store, SearchQuery(id_number=ZHANG.lower()))] == [b, a]
    assert [e.receipt_no for e in search_submissions(store, SearchQuery(id_number=mask_id_number(LI)))] == [c]
    assert [e.receipt_no for e in search_submissions(store, SearchQuery(id_number="0027"))] == [c]
    local_today = today.astimezone().date()
    found = search_submissions(store, SearchQuery(id_number=ZHANG, day=local_today))
    assert [e.receipt_no for e in found] == [b]
    assert {e.receipt_no for e in search_submissions(store, SearchQuery(day=local_today))} == {b, c}
    assert search_submissions(store, SearchQuery(day=date(2001, 1, 1))) == []
    # receipt and ID number must both match
    assert search_submissions(store, SearchQuery(receipt_no=c, id_number=ZHANG)) == []


def test_unusable_queries_say_what_to_give(store: Store) -> None:
    with pytest.raises(SearchError, match="receipt number, an ID number or a date"):
        search_submissions(store, SearchQuery())
    with pytest.raises(SearchError, match="last 4 characters"):
        search_submissions(store, SearchQuery(id_number="27"))


@given(st.text(alphabet="0123456789X", min_size=15, max_size=18))
def test_a_whole_number_is_compared_in_its_masked_form(number: str) -> None:
    how, wanted = id_number_matcher(" " + number.lower() + " ")
    assert how == "exact"
    assert wanted == mask_id_number(number)
    assert "*" in wanted


@given(st.text(alphabet="0123456789X", min_size=4, max_size=14))
def test_a_short_number_matches_the_end(digits: str) -> None:
    assert id_number_matcher(digits) == ("suffix", digits)
