"""Writing a setting back: one value changes, everything else stays; some files are left alone."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from app.settings_file import load
from app.settings_writer import NotSaved, remember


def test_only_the_value_changes(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    text = '# top\n\nhost = "box"   # mine\n  theme   =   "nord"   # dark\n\n[options]  # warm\ntemperature = 0.9\n'
    path.write_text(text, encoding="utf-8")
    remember(path, "theme", "dracula")
    assert path.read_text(encoding="utf-8") == text.replace('"nord"', '"dracula"')


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('theme = = "nord"\n', "is not valid TOML, so the app leaves it as it is"),
        ('theme = "nord"\ntheme = "dracula"\n', "is not valid TOML"),  # tomlkit reads this one
    ],
)
def test_a_file_that_does_not_parse_is_left_alone(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NotSaved, match=words):
        remember(path, "theme", "gruvbox")
    assert path.read_text(encoding="utf-8") == text
    assert [entry.name for entry in tmp_path.iterdir()] == ["config.toml"]


def test_a_read_only_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n', encoding="utf-8")
    path.chmod(0o400)
    with pytest.raises(NotSaved, match="is read-only"):
        remember(path, "theme", "gruvbox")
    assert path.read_text(encoding="utf-8") == 'theme = "nord"\n'


def test_a_path_that_cannot_be_used_is_said(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(NotSaved, match="cannot be read"):
        remember(blocker / "config.toml", "theme", "gruvbox")  # its folder is a file


def test_a_failed_rename_keeps_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n', encoding="utf-8")

    def full_disk(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(NotSaved, match=r"cannot be written \(No space left on device\)"):
        remember(path, "theme", "gruvbox")
    assert path.read_text(encoding="utf-8") == 'theme = "nord"\n'
    assert [entry.name for entry in tmp_path.iterdir()] == ["config.toml"]


def test_a_new_file_and_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "config.toml"
    remember(path, "theme", "nord")
    assert path.read_text(encoding="utf-8") == 'theme = "nord"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {stat.S_IMODE(folder.stat().st_mode) for folder in (path.parent, path.parent.parent)} == {0o700}


def test_a_byte_order_mark_is_read_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'\xef\xbb\xbftheme = "nord"\nmodel = "qwen3:4b"\n')
    assert load(path).model == "qwen3:4b" and load(path).problems == ()
    remember(path, "theme", "dracula")
    assert path.read_bytes() == b'\xef\xbb\xbftheme = "dracula"\nmodel = "qwen3:4b"\n'
