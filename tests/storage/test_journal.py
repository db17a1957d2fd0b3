"""The journal file on its own: append, reopen, torn tails cut, damage refused and left as found."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.journal import Entry, Journal, JournalDamaged, read_entries


def entry(seq: int, text: str = "x") -> Entry:
    return Entry(seq, (("records", f"g/agenda/{seq}", {"text": text}), ("groups", "g", None)))


def test_entries_survive_a_reopen_in_order(tmp_path: Path) -> None:
    journal, found = Journal.open(tmp_path / "j")
    assert found == []
    for seq in (1, 2, 3):
        journal.append(entry(seq))
    journal.close()
    journal, found = Journal.open(tmp_path / "j")
    assert found == [entry(1), entry(2), entry(3)]
    assert journal.size == (tmp_path / "j").stat().st_size
    journal.close()


@given(cut=st.integers(min_value=0, max_value=400))
@settings(max_examples=60, deadline=None)
def test_a_torn_last_line_is_dropped_and_cut_off(tmp_path_factory: pytest.TempPathFactory, cut: int) -> None:
    path = tmp_path_factory.mktemp("j") / "j"
    journal, _ = Journal.open(path)
    journal.append(entry(1))
    whole = path.stat().st_size
    journal.append(entry(2, "y" * 200))
    journal.close()
    raw = path.read_bytes()
    path.write_bytes(raw[: whole + min(cut, len(raw) - whole - 1)])  # the second line, cut short
    journal, found = Journal.open(path)
    assert found == [entry(1)]
    assert path.stat().st_size == whole
    journal.append(entry(3))  # and appends go on after the good part
    journal.close()
    assert Journal.open(path)[1] == [entry(1), entry(3)]


def test_a_flipped_byte_in_a_whole_last_line_is_damage_not_a_torn_write(tmp_path: Path) -> None:
    path = tmp_path / "j"
    journal, _ = Journal.open(path)
    journal.append(entry(1))
    journal.append(entry(2))
    journal.close()
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x01  # the line still ends in its newline: it was acknowledged, and is now damaged
    path.write_bytes(bytes(raw))
    with pytest.raises(JournalDamaged, match="line 2"):
        Journal.open(path)
    assert path.read_bytes() == bytes(raw)


def test_a_torn_tail_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "j"
    journal, _ = Journal.open(path)
    journal.append(entry(1))
    journal.close()
    path.write_bytes(path.read_bytes() + b"0000abcd {\"seq\": 2")
    with caplog.at_level("WARNING"):
        journal, found = Journal.open(path)
    journal.close()
    assert found == [entry(1)]
    assert "cut short" in caplog.text and "18 bytes" in caplog.text


def test_damage_before_good_lines_is_refused_and_the_file_left_as_found(tmp_path: Path) -> None:
    path = tmp_path / "j"
    journal, _ = Journal.open(path)
    for seq in (1, 2, 3):
        journal.append(entry(seq))
    journal.close()
    raw = bytearray(path.read_bytes())
    raw[3] ^= 0x01  # in the first line's checksum
    path.write_bytes(bytes(raw))
    with pytest.raises(JournalDamaged, match="line 1"):
        Journal.open(path)
    assert path.read_bytes() == bytes(raw)


def test_sequence_numbers_must_grow(tmp_path: Path) -> None:
    from storage.journal import _encode

    with pytest.raises(JournalDamaged, match="line 2 of the journal has commit 1, not after commit 2"):
        read_entries(_encode(entry(2)) + _encode(entry(1)))
    both = _encode(entry(1)) + _encode(entry(2))
    assert read_entries(both) == ([entry(1), entry(2)], len(both))


def test_a_failed_append_leaves_no_torn_line_before_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j"
    journal, _ = Journal.open(path)
    journal.append(entry(1))
    real_pwrite = os.pwrite
    calls = 0

    def half_then_full(fd: int, data: bytes, offset: int) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_pwrite(fd, data[:10], offset)  # part of the line reaches the file
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", half_then_full)
    with pytest.raises(OSError):
        journal.append(entry(2))
    monkeypatch.setattr(os, "pwrite", real_pwrite)
    journal.append(entry(3))
    journal.close()
    assert Journal.open(path)[1] == [entry(1), entry(3)]
