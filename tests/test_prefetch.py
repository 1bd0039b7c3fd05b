"""The prefetch command: finds weights already there, and fails fast and clearly when offline."""
import pytest

from models.vision import prefetch, pretrained


def test_weights_already_on_disk_are_reported_not_downloaded(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    for arch in pretrained.ARCHITECTURES.values():
        (folder / arch.weights_file).write_bytes(b"weights")
        monkeypatch.delenv(arch.env_var, raising=False)
    monkeypatch.setattr(pretrained, "keras_cache_dirs", lambda: [folder])
    assert prefetch.main([]) == 0
    out = capsys.readouterr().out
    assert out.count("already present") == len(pretrained.ARCHITECTURES)


def test_offline_the_command_fails_fast_with_a_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pretrained, "keras_cache_dirs", lambda: [tmp_path / "empty"])
    monkeypatch.delenv("MOBILENETV2_WEIGHTS_PATH", raising=False)
    # tests/conftest.py points the download check at a closed local port
    assert prefetch.main(["mobilenet_v2"]) == 1
    assert "cannot be reached" in capsys.readouterr().err


def test_unknown_model_names_are_refused():
    with pytest.raises(SystemExit):
        prefetch.main(["resnet"])
