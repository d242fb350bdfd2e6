"""The temporary on-disk sort behind the streamed OULAD import (issue 12 item 6)."""
from __future__ import annotations

import random

import pytest

from thrive.services.ingest import spill as spill_module
from thrive.services.ingest.spill import SortedSpill


def test_rows_come_back_sorted_and_filtered(tmp_path, monkeypatch):
    monkeypatch.setattr(spill_module, "FLUSH_ROWS", 7)  # several flushes
    monkeypatch.setattr(spill_module, "FETCH_ROWS", 3)  # several fetches
    rng = random.Random(12)
    rows = [(rng.randrange(5), rng.randrange(4), rng.randrange(3), line, rng.choice([None, 0, 100]))
            for line in range(2, 60)]
    with SortedSpill(tmp_path) as spill:
        spill.add_many(rows)
        assert spill.count == len(rows)
        assert list(spill.sorted()) == sorted(rows, key=lambda r: r[:4])
        assert list(spill.sorted(upto=2)) == sorted((r for r in rows if r[0] <= 2), key=lambda r: r[:4])
        assert spill.count_after(2) == sum(r[0] > 2 for r in rows)
    assert list(tmp_path.iterdir()) == []


def test_ties_keep_file_order(tmp_path):
    with SortedSpill(tmp_path) as spill:
        spill.add_many([(5, 1, 1, 9, 10), (5, 1, 1, 3, 20), (1, 2, 2, 4, None)])
        assert list(spill.sorted()) == [(1, 2, 2, 4, None), (5, 1, 1, 3, 20), (5, 1, 1, 9, 10)]


def test_temp_directory_removed_on_success(tmp_path):
    with SortedSpill(tmp_path) as spill:
        spill.add((1, 1, 1, 2, None))
        path = spill.path
        assert (path / "spill.sqlite3").is_file()
        assert len(list(spill.sorted())) == 1
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_temp_directory_removed_on_error(tmp_path):
    with pytest.raises(RuntimeError), SortedSpill(tmp_path) as spill:
        spill.add((1, 1, 1, 2, None))
        path = spill.path
        next(spill.sorted())  # a cursor left open
        raise RuntimeError("boom")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_oulad_import_leaves_no_spill_file(tmp_path, monkeypatch):
    """The importer's spill lives in the temp dir and is gone after a format error too."""
    import tempfile

    from thrive.services.ingest.oulad import OuladFormatError, import_oulad

    spills = tmp_path / "tmp"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    data = tmp_path / "data"
    data.mkdir()
    (data / "assessments.csv").write_text("code_module,code_presentation,id_assessment,assessment_type\n"
                                          "AAA,2013J,1,CMA\n")
    (data / "studentAssessment.csv").write_text("id_student,id_assessment,date_submitted,is_banked,score\n"
                                                '1,1,5,0,"\xff\n', encoding="latin-1")
    with pytest.raises(OuladFormatError):
        import_oulad(data)
    assert list(spills.iterdir()) == []
