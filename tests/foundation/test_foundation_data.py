import pytest

from jaxor import data


def test_shipped_netlib_is_found():
    p = data.locate("netlib/afiro.mps")
    assert p.exists() and p.read_text().lstrip().startswith(("NAME", "*"))


def test_env_override_comes_first(tmp_path, monkeypatch):
    (tmp_path / "netlib").mkdir()
    (tmp_path / "netlib" / "afiro.mps").write_text("NAME custom\n")
    monkeypatch.setenv("JAXOR_DATA", str(tmp_path))
    assert data.locate("netlib/afiro.mps") == tmp_path / "netlib" / "afiro.mps"
    assert data.search_roots()[0] == tmp_path


def test_missing_data_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXOR_DATA", str(tmp_path))
    with pytest.raises(data.DataNotFound, match="LIBSVM"):
        data.locate("libsvm/definitely-missing")


@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../secret"])
def test_bad_names_rejected(bad):
    with pytest.raises(ValueError, match="name="):
        data.locate(bad)


def test_non_redistributable_data_not_shipped():
    root = data._PACKAGE_DATA
    assert not (root / "libsvm").exists() and not (root / "orspace-sample").exists()
